"""ACN sessions onto the simulated garage: busiest stations, local clock times moved onto
the simulated days, and the records the data's oddities need handled."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from smartload.settings import Settings
from smartload.whatif.runner import prepare
from smartload.whatif.sessions import (
    arrival_soc_pct,
    default_source_start,
    plan_sessions,
    read_sessions,
)
from tests.whatif.conftest import BERLIN, acn_csv, config

ROWS = [
    # Monday 2019-09-02 (Pacific daylight time)
    ("2019-09-02 07:10:00-07:00", "2019-09-02 16:00:00-07:00", 12.0, "CA-1", "2019-09-02 17:00:00-07:00"),
    ("2019-09-02 08:00:00-07:00", "2019-09-02 12:00:00-07:00", 100.0, "CA-2", "2019-09-02 12:00:00-07:00"),
    ("2019-09-02 13:00:00-07:00", "2019-09-02 18:00:00-07:00", 8.0, "CA-2", "2019-09-02 13:05:00-07:00"),
    ("2019-09-02 09:00:00-07:00", "2019-09-02 10:00:00-07:00", 5.0, "CA-3", "2019-09-02 10:00:00-07:00"),
    # overlaps the CA-1 session above: an odd record, dropped
    ("2019-09-02 15:00:00-07:00", "2019-09-02 17:00:00-07:00", 4.0, "CA-1", "2019-09-02 17:00:00-07:00"),
    # Tuesday; outside a one-day window
    ("2019-09-03 07:00:00-07:00", "2019-09-03 09:00:00-07:00", 6.0, "CA-3", "2019-09-03 09:00:00-07:00"),
]


@pytest.fixture
def sessions(tmp_path: Path) -> list:
    return read_sessions(acn_csv(tmp_path / "acn.csv.gz", ROWS))


def test_the_busiest_stations_become_the_wallboxes(sessions: list) -> None:
    plan = plan_sessions(sessions, date(2019, 9, 2), date(2024, 1, 15), 1, 2, BERLIN)
    assert plan.stations == ("CA-1", "CA-2")
    assert [s.id for s in plan.sessions] == ["s0", "s1", "s2"]
    assert plan.dropped_overlapping == 1
    first = plan.sessions[0]
    # The same local clock time on the simulated day, in the site's zone.
    assert first.arrival == datetime(2024, 1, 15, 7, 10, tzinfo=BERLIN)
    assert first.departure == datetime(2024, 1, 15, 16, 0, tzinfo=BERLIN)
    assert (plan.wallbox(first), plan.vehicle(first)) == (1, "ev01")
    assert (plan.wallbox(plan.sessions[1]), plan.vehicle(plan.sessions[1])) == (2, "ev02")


def test_requests_a_car_cannot_take_are_capped_and_announcements_clamped(sessions: list) -> None:
    plan = plan_sessions(sessions, date(2019, 9, 2), date(2024, 1, 15), 1, 3, BERLIN)
    big = next(s for s in plan.sessions if s.id == "s1")
    # 80 kWh car to 80 % from at least 5 %, 90 % into the battery: 66.67 kWh at the wallbox.
    assert big.requested_kwh == pytest.approx(66.6667, abs=1e-4)
    assert arrival_soc_pct(big.requested_kwh) == pytest.approx(5.0)
    assert plan.capped_requests == 1
    late = next(s for s in plan.sessions if s.id == "s2")
    assert late.announced_departure == datetime(2024, 1, 15, 13, 15, tzinfo=BERLIN)
    assert plan.clamped_announcements == 1
    assert [s.id for s in plan.sessions] == ["s0", "s1", "s3", "s2"]


def test_stand_in_months_keep_the_weekday() -> None:
    assert default_source_start(date(2024, 1, 1)) == date(2019, 9, 2)
    assert default_source_start(date(2023, 7, 3)) == date(2019, 7, 8)
    assert default_source_start(date(2024, 10, 1)) == date(2019, 10, 1)
    for start in (date(2023, 4, 3), date(2024, 4, 1)):
        assert default_source_start(start).weekday() == start.weekday()


def test_a_file_without_acn_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not an ACN sessions CSV"):
        read_sessions(path)


@pytest.mark.parametrize(("site", "name"), [("jpl", "jpl"), (None, "acn_office")])
def test_the_report_names_the_site_of_the_sessions_file(tmp_path: Path, site: str | None, name: str) -> None:
    path = acn_csv(tmp_path / "acn_office.csv.gz", ROWS, site=site)
    assert {s.site for s in read_sessions(path)} == ({site} if site else {""})
    inputs = prepare(config(sessions_csv=path, chargers=2, start=date(2024, 1, 15), days=1,
                            sessions_from=date(2019, 9, 2)), Settings())
    assert inputs.scenario_label == f"ACN sessions at {name} on 2 chargers"
    assert inputs.scenario.title == f"Workplace garage, 2 chargers (sessions at {name})"


def test_a_garage_prices_an_early_drivers_missed_kwh_as_a_shortfall_unless_the_settings_say(tmp_path: Path) -> None:
    path = acn_csv(tmp_path / "acn.csv.gz", ROWS)
    run = config(sessions_csv=path, chargers=2, start=date(2024, 1, 15), days=1, sessions_from=date(2019, 9, 2))
    planning = prepare(run, Settings()).settings.planning
    assert planning.charge_until_announced
    assert planning.early_departure_miss_eur_per_kwh == 10.0  # the shortfall penalty
    assert (planning.early_departure_max, planning.early_departure_prior_share) == (timedelta(hours=8), 0.5)
    given = Settings(planning={"early_departure_miss_eur_per_kwh": 3.0, "early_departure_max": "1h",
                               "early_departure_prior_share": 0.1})
    planning = prepare(run, given).settings.planning
    assert (planning.early_departure_miss_eur_per_kwh, planning.early_departure_max,
            planning.early_departure_prior_share) == (3.0, timedelta(hours=1), 0.1)
    # A household keeps the settings' own.
    household = prepare(config(scenario="household", start=date(2024, 1, 15), days=1), Settings()).settings.planning
    assert (household.early_departure_miss_eur_per_kwh, household.early_departure_max,
            household.early_departure_prior_share) == (2.0, timedelta(hours=2), 0.25)
