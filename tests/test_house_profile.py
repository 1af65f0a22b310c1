"""The house-load forecast: learned per quarter-hour and day type, by observed time
whatever the poll interval, and kept in SQLite across a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smartload.domain import SiteState
from smartload.settings import Settings
from smartload.sinks.house_profile import HouseProfile
from smartload.sinks.planning import make_planning
from smartload.store.database import Database
from smartload.store.house import HouseProfileStore
from smartload.store.requests import RequestStore

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=BERLIN)


def feed(profile: HouseProfile, start: datetime, days: int, poll: timedelta, watts: float) -> None:
    t = start
    while t < start + timedelta(days=days):
        profile.observe(t, watts)
        t += poll


def test_the_first_reading_of_a_quarter_hour_is_its_forecast_and_the_rest_fall_back():
    profile = HouseProfile(BERLIN, fallback_w=450)
    profile.observe(MONDAY + timedelta(hours=8, minutes=3), 800)
    assert profile.at(MONDAY + timedelta(hours=8, minutes=14)) == 800
    assert profile.at(MONDAY + timedelta(days=1, hours=8)) == 800  # Tuesday: a workday too
    assert profile.at(MONDAY + timedelta(hours=8, minutes=15)) == 450
    assert profile.at(MONDAY + timedelta(days=5, hours=8)) == 450  # Saturday: not learned yet
    assert profile.mean_w(MONDAY + timedelta(hours=8), MONDAY + timedelta(hours=8, minutes=30)) == 625
    # Negative or missing homePower (a meter glitch) teaches nothing.
    profile.observe(MONDAY + timedelta(hours=9), -20)
    profile.observe(MONDAY + timedelta(hours=9), None)
    assert profile.learned_bins == 1


def test_workdays_and_weekends_are_learned_apart_in_local_time():
    profile = HouseProfile(BERLIN, fallback_w=0)
    feed(profile, MONDAY, 5, timedelta(minutes=1), 400)
    feed(profile, MONDAY + timedelta(days=5), 2, timedelta(minutes=1), 900)
    assert profile.learned_bins == 192
    assert profile.at(datetime(2026, 3, 9, 5, 0, tzinfo=UTC)) == 400  # Monday 06:00 in Berlin
    assert profile.at(datetime(2026, 3, 8, 22, 59, tzinfo=UTC)) == 900  # Sunday 23:59 in Berlin


@pytest.mark.parametrize("poll_s", [10, 60])
def test_memory_is_counted_in_observed_minutes_not_in_polls(poll_s):
    """A day at 1000 W after a day at 500 W: each quarter-hour sees 15 minutes of the new
    load, moving it by 1 - 0.99^15 = 13.99 % of the step (at 10 s polls 1 - (1 - 0.01/6)^90
    = 13.94 %). Counted per poll, 10 s polls would have moved it by 60 %."""
    profile = HouseProfile(BERLIN, fallback_w=0, rate_per_min=0.01)
    poll = timedelta(seconds=poll_s)
    feed(profile, MONDAY, 1, poll, 500)
    feed(profile, MONDAY + timedelta(days=1), 1, poll, 1000)
    expected = {10: 500 + 500 * (1 - (1 - 0.01 / 6) ** 90), 60: 500 + 500 * (1 - 0.99 ** 15)}[poll_s]
    for hour in (0, 8, 19):
        assert profile.at(MONDAY + timedelta(days=2, hours=hour)) == pytest.approx(expected, abs=1e-9)
    assert round(expected, 2) == {10: 569.70, 60: 569.97}[poll_s]


def test_a_reading_after_an_outage_counts_as_five_minutes_not_as_the_whole_gap():
    profile = HouseProfile(BERLIN, fallback_w=0, rate_per_min=0.01)
    profile.observe(MONDAY + timedelta(hours=6), 500)
    profile.observe(MONDAY + timedelta(hours=8), 500)  # 08:00 learned from one reading
    profile.observe(MONDAY + timedelta(days=1, hours=8), 1500)  # evcc was down for a day
    assert profile.at(MONDAY + timedelta(hours=8)) == pytest.approx(500 + 1000 * 0.05)


def test_the_profile_survives_a_restart_in_the_data_directory(tmp_path):
    path = tmp_path / "smartload.db"
    settings = Settings.model_validate({"data_dir": str(tmp_path), "site": {"timezone": "Europe/Berlin"}})

    def start(db: Database):
        return make_planning(settings, RequestStore(db), house_store=HouseProfileStore(db))

    first = MONDAY.astimezone(UTC) + timedelta(hours=18)
    with Database.open(path) as db:
        planning = start(db)
        for minute in range(30):
            planning.on_state(SiteState(at=first + timedelta(minutes=minute),
                                        home_power_w=700 if minute == 0 else 800))
        learned = planning.sequencer.house.learned()
        # 18:00 starts at 700 W, then 14 minutes at 800 W close 1 - 0.99^14 of the gap; 18:15 saw only 800 W.
        assert learned == {(False, 72): pytest.approx(800 - 100 * 0.99 ** 14), (False, 73): 800}
        assert round(learned[(False, 72)], 2) == 713.13
        planning.close()

    with Database.open(path) as db:
        planning = start(db)
        assert planning.sequencer.house.learned() == learned
        assert planning.sequencer.house.at(first + timedelta(days=1)) == learned[(False, 72)]
