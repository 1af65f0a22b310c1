"""The history store: energy and cost per quarter-hour (measured and planned), days in the
site's time zone, what the recorder keeps, and the retention."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest

from smartload.domain import LoadpointState, Rate, SiteState, Tariffs
from smartload.events import Event
from smartload.requests import ChargeRequest
from smartload.store.energy import Accrual, EnergyMeter
from smartload.store.history import HistoryStore
from smartload.store.requests import RequestStore
from tests.web.builders import BERLIN, NOW, make_parts, plan, settings, site_state, zoe_reading

PRICES = Tariffs(grid=(Rate(NOW, NOW + timedelta(hours=1), 0.30),),
                 feedin=(Rate(NOW, NOW + timedelta(hours=1), 0.08),))


def state(at: datetime, grid_w: float, zoe_w: float = 0.0, vehicle: str = "zoe") -> SiteState:
    lp = LoadpointState(id=1, connected=True, charging=zoe_w > 0, charge_power_w=zoe_w, vehicle_name=vehicle)
    return SiteState(at=at, grid_power_w=grid_w, tariff_grid=0.40, tariff_feedin=0.05, loadpoints=(lp,))


def figures(accruals: list[Accrual]) -> dict[tuple[str, str, str], tuple[float, float]]:
    return {(a.slot_start.strftime("%H:%M"), a.basis, a.account): (round(a.kwh, 6), round(a.eur, 6))
            for a in accruals}


def test_each_poll_interval_is_booked_as_measured_and_as_planned():
    meter = EnergyMeter({"zoe": "zoe"})
    assert meter.observe(state(NOW, 10000, 8000), plan(), PRICES) == []
    # 36 s = 0.01 h at the first poll's power: 10 kW import, 8 kW into zoe.
    booked = figures(meter.observe(state(NOW + timedelta(seconds=36), -2000), plan(), PRICES))
    assert booked == {
        ("19:00", "actual", "import"): (0.1, 0.03),
        ("19:00", "actual", "car:zoe"): (0.08, 0.024),
        # The plan in force: 10.5 kW import at 0.30, zoe 11 kW.
        ("19:00", "planned", "import"): (0.105, 0.0315),
        ("19:00", "planned", "car:zoe"): (0.11, 0.033),
    }
    # Exporting 2 kW: feed-in revenue, and no car charging.
    booked = figures(meter.observe(state(NOW + timedelta(seconds=72), 0), plan(), PRICES))
    assert booked[("19:00", "actual", "export")] == (0.02, 0.0016)
    assert ("19:00", "actual", "car:zoe") not in booked


def test_an_interval_across_a_quarter_hour_is_split_and_an_outage_gap_is_left_out():
    meter = EnergyMeter({"zoe": "zoe"})
    start = NOW + timedelta(minutes=15) - timedelta(seconds=18)
    meter.observe(state(start, 10000, 10000), plan(), PRICES)
    booked = figures(meter.observe(state(start + timedelta(seconds=36), 10000), plan(), PRICES))
    # 18 s on each side; the plan's second slot costs 0.25.
    assert booked[("19:00", "actual", "import")] == (0.05, 0.015)
    assert booked[("19:15", "actual", "import")] == (0.05, 0.015)
    assert booked[("19:00", "planned", "import")] == (0.0525, 0.01575)
    assert booked[("19:15", "planned", "import")] == (0.0525, 0.013125)
    # Twenty minutes without a poll (evcc was down): nothing is guessed.
    assert meter.observe(state(start + timedelta(minutes=20), 10000), plan(), PRICES) == []


def test_without_a_rate_evccs_current_tariff_prices_the_energy_and_guests_are_booked_apart():
    meter = EnergyMeter({"Zoe (evcc)": "zoe"})
    later = NOW + timedelta(hours=2)  # past the rates above
    meter.observe(state(later, 3600, 3600, vehicle=""), None, PRICES)
    booked = figures(meter.observe(state(later + timedelta(seconds=36), 0), None, PRICES))
    assert booked == {("21:00", "actual", "import"): (0.036, 0.0144),
                      ("21:00", "actual", "car:(guest)"): (0.036, 0.0144)}


def test_days_follow_the_site_time_zone(db):
    store = HistoryStore(db, 90)
    late = datetime(2026, 3, 2, 22, 45, tzinfo=UTC)  # 23:45 in Berlin: still Monday
    after = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 00:00 on Tuesday in Berlin
    store.add_energy([Accrual(late, "actual", "import", 2.0, 0.6), Accrual(late, "planned", "import", 1.5, 0.45),
                      Accrual(late, "actual", "export", 1.0, 0.08), Accrual(after, "actual", "car:zoe", 3.0, 0.75),
                      Accrual(after, "planned", "car:zoe", 2.5, 0.5)])
    store.add_energy([Accrual(late, "actual", "import", 1.0, 0.3)])  # adds up
    monday, tuesday = store.days(date(2026, 3, 2), date(2026, 3, 3), BERLIN)
    assert (monday.day, monday.actual.import_kwh, monday.actual.cost_eur) == (date(2026, 3, 2), 3.0, 0.82)
    assert (monday.planned.import_kwh, monday.planned.cost_eur) == (1.5, 0.45)
    assert (tuesday.actual.cars, tuesday.planned.cars) == ({"zoe": {"kwh": 3.0, "eur": 0.75}},
                                                           {"zoe": {"kwh": 2.5, "eur": 0.5}})
    assert tuesday.actual.cost_eur == 0.0


async def test_the_recorder_keeps_readings_plans_events_writes_and_energy(tmp_path):
    parts = make_parts(settings(tmp_path))
    history = parts.system.history
    parts.system.live.tariffs = PRICES
    parts.push_plan(plan())
    parts.push_state(site_state(NOW, zoe_power_w=8000, grid_w=10000))
    parts.push_socs(zoe_reading())
    parts.push_socs(zoe_reading())  # unchanged: not stored twice
    parts.push_state(site_state(NOW + timedelta(seconds=36)))
    parts.system.bus.publish(Event(NOW, "write", "evcc write POST /api/loadpoints/1/mode/now (cheap)", None,
                                    {"method": "POST", "path": "/api/loadpoints/1/mode/now"}))
    parts.system.bus.publish(Event(NOW, "error", "evcc write failed: 500", None,
                                    {"method": "POST", "path": "/api/batterymode/hold"}))
    assert history.readings("zoe", NOW - timedelta(hours=1)) == [
        {"soc_pct": 45.0, "source": "zoe-cloud", "measured_at": "2026-03-02T18:50:00Z",
         "measured_at_known": True, "received_at": "2026-03-02T19:00:00Z"}]
    [stored_plan] = history.plans()
    assert (stored_plan["reason"], stored_plan["status"], stored_plan["cost_eur"], stored_plan["slots"]) == (
        "tick", "optimal", 1.9625, 4)
    assert stored_plan["cars"]["zoe"] == {"target_soc_pct": 80.0, "final_soc_pct": 55.0,
                                          "departure": "2026-03-03T06:00:00Z", "shortfall_kwh": 13.0,
                                          "energy_kwh": 5.5, "cost_eur": 1.51}
    assert [(w["path"], w["ok"]) for w in history.writes()] == [("/api/batterymode/hold", False),
                                                                 ("/api/loadpoints/1/mode/now", True)]
    assert [e["kind"] for e in history.events()] == ["error", "write"]
    [today] = history.days(date(2026, 3, 2), date(2026, 3, 2), BERLIN)
    assert (round(today.actual.import_kwh, 6), round(today.actual.cars["zoe"]["kwh"], 6)) == (0.1, 0.08)
    assert (round(today.planned.import_kwh, 6), round(today.planned.cars["zoe"]["kwh"], 6)) == (0.105, 0.11)
    parts.close()


def test_retention_deletes_old_history_and_old_ended_requests_only(tmp_path, db):
    path = tmp_path / "smartload.db"
    requests = RequestStore(db)
    store = HistoryStore(db, retention_days=30)
    old = NOW - timedelta(days=40)
    requests.end(ChargeRequest("zoe", old + timedelta(hours=10), 80.0), old, "departed")
    kept = requests.add(ChargeRequest("ioniq", NOW + timedelta(hours=10), 70.0, source="api"), NOW)
    for at in (old, NOW):
        store.add_event(Event(at, "refresh", "zoe SoC", "zoe"))
        store.add_readings([zoe_reading(at)])
        store.add_energy([Accrual(at, "actual", "import", 1.0, 0.3)])
    assert store.purge(NOW) == 4  # one event, reading, energy row and ended request
    assert [e["at"] for e in store.events()] == ["2026-03-02T19:00:00Z"]
    assert requests.open_requests() == {"ioniq": kept}
    with contextlib.closing(sqlite3.connect(path)) as other:
        assert other.execute("SELECT COUNT(*) FROM requests").fetchone() == (1,)
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize("days", [1, 7])
async def test_the_history_endpoint_reports_planned_and_actual_per_day(tmp_path, days):
    from tests.web.conftest import serve

    parts = make_parts(settings(tmp_path))
    parts.system.history.add_energy([
        Accrual(NOW, "actual", "import", 2.0, 0.6), Accrual(NOW, "planned", "import", 2.5, 0.5),
        Accrual(NOW, "actual", "car:zoe", 1.5, 0.45), Accrual(NOW - timedelta(days=1), "actual", "import", 1.0, 0.2)])
    stack, served = await serve(parts)
    async with stack:
        answer = (await served.client.get(f"/api/history?days={days}")).json()
    parts.close()
    assert len(answer["days"]) == days
    assert answer["method"].startswith("Method: each poll's power holds until the next poll")
    assert answer["days"][0] == {
        "date": "2026-03-02",
        "actual": {"cost_eur": 0.6, "import_kwh": 2.0, "import_eur": 0.6, "export_kwh": 0.0, "export_eur": 0.0,
                   "cars": {"zoe": {"kwh": 1.5, "eur": 0.45}}},
        "planned": {"cost_eur": 0.5, "import_kwh": 2.5, "import_eur": 0.5, "export_kwh": 0.0, "export_eur": 0.0,
                    "cars": {}}}
    if days == 7:
        assert answer["days"][1]["actual"]["cost_eur"] == 0.2
