"""Range validation: an impossible value becomes unknown, is listed as a problem with its
field path and value, and the rest of the state is used (issue 16 §2, §3)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smartload.domain import BatteryState, LoadpointState, Rate, SiteState, Tariffs, ValueProblem, VehicleInfo
from smartload.evcc.ranges import violations
from smartload.evcc.state import StateParser
from smartload.evcc.view import normalised_view
from tests.fixtures_evcc import AT, compact, demo_state, recording_line


def parsed(raw: dict[str, Any], at: datetime = AT) -> SiteState:
    state = StateParser().parse_state(compact(raw), at)
    assert isinstance(state, SiteState), state
    assert StateParser().parse_state(raw, at) == state  # the tolerant path agrees
    assert violations(state) == []
    return state


BASE = parsed(demo_state())


def lp(index: int, **changes: Any) -> Callable[[SiteState], SiteState]:
    def change(state: SiteState) -> SiteState:
        lps = list(state.loadpoints)
        lps[index] = dataclasses.replace(lps[index], **changes)
        return dataclasses.replace(state, loadpoints=tuple(lps))
    return change


def site(**changes: Any) -> Callable[[SiteState], SiteState]:
    return lambda state: dataclasses.replace(state, **changes)


def battery(**changes: Any) -> Callable[[SiteState], SiteState]:
    return lambda state: dataclasses.replace(state, battery=dataclasses.replace(state.battery, **changes))  # type: ignore[arg-type]


def vehicle(name: str, **changes: Any) -> Callable[[SiteState], SiteState]:
    def change(state: SiteState) -> SiteState:
        return dataclasses.replace(state, vehicles={**state.vehicles, name: dataclasses.replace(state.vehicles[name],
                                                                                                **changes)})
    return change


def set_lp(index: int, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw["loadpoints"][index].update(values)


def set_site(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw.update(values)


def set_vehicle(name: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw["vehicles"][name].update(values)


CASES = [
    (set_lp(1, maxCurrent=-16), lp(1, max_current_a=None), "loadpoints[1].maxCurrent", "-16"),
    (set_lp(0, minCurrent=1e308), lp(0, min_current_a=None), "loadpoints[0].minCurrent", "1e+308"),
    (set_lp(0, maxCurrent=1000.5), lp(0, max_current_a=None), "loadpoints[0].maxCurrent", "1000.5"),
    (set_lp(0, vehicleSoc=140), lp(0, vehicle_soc_pct=None), "loadpoints[0].vehicleSoc", "140"),
    (set_lp(0, vehicleSoc=-5), lp(0, vehicle_soc_pct=None), "loadpoints[0].vehicleSoc", "-5"),
    (set_lp(0, vehicleSoc=100.5), lp(0, vehicle_soc_pct=None), "loadpoints[0].vehicleSoc", "100.5"),
    (set_lp(0, limitSoc=250), lp(0, limit_soc_pct=None), "loadpoints[0].limitSoc", "250"),
    (set_lp(0, effectiveLimitSoc=-1), lp(0, effective_limit_soc_pct=None), "loadpoints[0].effectiveLimitSoc", "-1"),
    (set_lp(1, phasesActive=7), lp(1, phases_active=None), "loadpoints[1].phasesActive", "7"),
    (set_lp(1, phasesActive=0), lp(1, phases_active=None), "loadpoints[1].phasesActive", "0"),
    (set_lp(0, phasesConfigured=4), lp(0, phases_configured=None), "loadpoints[0].phasesConfigured", "4"),
    (set_lp(1, chargePower=2e7), lp(1, charge_power_w=None), "loadpoints[1].chargePower", "20000000"),
    (set_lp(0, sessionEnergy=-3.5), lp(0, session_energy_wh=None), "loadpoints[0].sessionEnergy", "-3.5"),
    (set_lp(1, smartCostLimit=1e6), lp(1, smart_cost_limit=None), "loadpoints[1].smartCostLimit", "1000000"),
    (set_site(homePower=1e308), site(home_power_w=None), "homePower", "1e+308"),
    (set_site(pvPower=-2e7), site(pv_power_w=None), "pvPower", "-20000000"),
    (set_site(grid={"power": 1.5e7}), site(grid_power_w=None), "grid.power", "15000000"),
    (set_site(tariffGrid=-1e30), site(tariff_grid=None), "tariffGrid", "-1e+30"),
    (set_site(tariffFeedIn=20_000), site(tariff_feedin=None), "tariffFeedIn", "20000"),
    (set_site(bufferSoc=150), battery(buffer_soc_pct=None), "bufferSoc", "150"),
    (set_site(bufferStartSoc=-0.5), battery(buffer_start_soc_pct=None), "bufferStartSoc", "-0.5"),
    (set_site(prioritySoc=101), battery(priority_soc_pct=None), "prioritySoc", "101"),
    (set_site(batteryGridChargeLimit=1e5), battery(grid_charge_limit=None), "batteryGridChargeLimit", "100000"),
    # the device list stands in, unrounded
    (set_site(batteryPower=1e9), battery(power_w=188.78599363476042), "batteryPower", "1000000000"),
    (set_vehicle("vehicle_1", capacity=-44), vehicle("vehicle_1", capacity_kwh=None), "vehicles.vehicle_1.capacity",
     "-44"),
    (set_vehicle("vehicle_1", capacity=2000), vehicle("vehicle_1", capacity_kwh=None), "vehicles.vehicle_1.capacity",
     "2000"),
    (set_vehicle("vehicle_1", minSoc=101), vehicle("vehicle_1", min_soc_pct=None), "vehicles.vehicle_1.minSoc", "101"),
    (set_vehicle("vehicle_2", limitSoc=-80), vehicle("vehicle_2", limit_soc_pct=None), "vehicles.vehicle_2.limitSoc",
     "-80"),
    (set_vehicle("vehicle_2", plan={"soc": 200, "time": "2025-09-08T06:00:00Z"}),
     vehicle("vehicle_2", plan_soc_pct=None), "vehicles.vehicle_2.plan.soc", "200"),
    (set_vehicle("vehicle_2", plan={"soc": 80, "time": "9999-12-31T23:00:00Z"}),
     vehicle("vehicle_2", plan_time=None), "vehicles.vehicle_2.plan.time", "'9999-12-31T23:00:00+00:00'"),
]  # fmt: skip


@pytest.mark.parametrize(("damage", "expected", "path", "value"), CASES, ids=[case[2] for case in CASES])
def test_an_impossible_value_becomes_unknown_and_is_listed(
    damage: Callable[[dict[str, Any]], None], expected: Callable[[SiteState], SiteState], path: str, value: str
) -> None:
    raw = demo_state()
    damage(raw)
    state = parsed(raw)
    assert state.problems == (ValueProblem(path, value),)
    assert dataclasses.replace(state, problems=()) == expected(BASE)


def test_a_battery_value_out_of_range_falls_back_to_the_device_list() -> None:
    raw = demo_state()
    raw.update(batteryCapacity=-10, batterySoc=101)
    state = parsed(raw)
    assert (state.battery.capacity_kwh, state.battery.soc_pct) == (13.4, 31.0)  # type: ignore[union-attr]
    assert state.problems == (ValueProblem("batterySoc", "101"), ValueProblem("batteryCapacity", "-10"))
    raw["battery"][0].update(capacity=-10, soc=500)
    state = parsed(raw)
    assert (state.battery.capacity_kwh, state.battery.soc_pct, state.battery.power_w) == (  # type: ignore[union-attr]
        None, None, 188.786)
    assert state.problems == (
        ValueProblem("batterySoc", "101"), ValueProblem("batteryCapacity", "-10"),
        ValueProblem("battery[0].soc", "500"), ValueProblem("battery[0].capacity", "-10"),
    )


def test_the_battery_object_since_0301() -> None:
    raw = demo_state()
    for key in ("batteryPower", "batterySoc", "batteryCapacity"):
        del raw[key]
    raw["battery"] = {"power": -2e7, "soc": 48, "capacity": -13.4, "devices": [{"controllable": False}]}
    state = parsed(raw)
    assert state.battery == dataclasses.replace(BASE.battery, power_w=None, soc_pct=48.0, capacity_kwh=None,  # type: ignore[arg-type]
                                                controllable=False)
    assert state.problems == (ValueProblem("battery.power", "-20000000"), ValueProblem("battery.capacity", "-13.4"))


def test_a_minimum_current_above_the_maximum_is_dropped_and_the_maximum_kept() -> None:
    raw = demo_state()
    raw["loadpoints"][0].update(minCurrent=20, maxCurrent=15)
    state = parsed(raw)
    assert (state.loadpoints[0].min_current_a, state.loadpoints[0].max_current_a) == (None, 15.0)
    assert state.problems == (ValueProblem("loadpoints[0].minCurrent", "20 (above maxCurrent 15)"),)


def test_a_capacity_of_zero_is_unset_not_a_problem() -> None:
    raw = demo_state()
    raw["vehicles"]["vehicle_1"]["capacity"] = 0
    raw["batteryCapacity"] = 0
    raw["battery"][0]["capacity"] = 0
    state = parsed(raw)
    assert (state.vehicles["vehicle_1"].capacity_kwh, state.battery.capacity_kwh) == (None, None)  # type: ignore[union-attr]
    assert state.problems == ()


def test_bounds_are_inclusive() -> None:
    raw = demo_state()
    raw["loadpoints"][0].update(vehicleSoc=100, limitSoc=0, minCurrent=0, maxCurrent=1000, phasesConfigured=0,
                                phasesActive=3)
    raw.update(tariffGrid=-10_000, homePower=-1e7, bufferSoc=100)
    state = parsed(raw)
    assert state.problems == ()
    lp1 = state.loadpoints[0]
    assert (lp1.vehicle_soc_pct, lp1.limit_soc_pct, lp1.min_current_a, lp1.max_current_a) == (100.0, 0.0, 0.0, 1000.0)
    assert (state.tariff_grid, state.home_power_w, state.battery.buffer_soc_pct) == (-10_000.0, -1e7, 100.0)  # type: ignore[union-attr]


def test_a_forecast_rate_out_of_range_is_left_out() -> None:
    raw = demo_state()
    raw["forecast"]["grid"][3]["value"] = 1e308
    raw["forecast"]["solar"]["timeseries"][10]["val"] = -100
    state = parsed(raw)
    assert state.problems == (ValueProblem("forecast.grid[3].value", "1e+308"),
                              ValueProblem("forecast.solar.timeseries[10].val", "-100"))
    assert [rate for rate in BASE.forecast.grid if rate not in state.forecast.grid] == [BASE.forecast.grid[3]]
    # The point before the dropped one lasts until the next one kept.
    assert (len(state.forecast.solar), state.forecast.solar[9].end - state.forecast.solar[9].start) == (
        71, timedelta(hours=2))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_forecast_point_in_year_9999_is_dropped_before_any_duration_is_added() -> None:
    raw = demo_state()
    raw["forecast"]["solar"]["timeseries"].append({"ts": "9999-12-31T23:30:00Z", "val": 5000})
    raw["forecast"]["grid"].append({"start": "2025-09-08T22:00:00Z", "end": "9999-12-31T23:59:59Z", "value": 0.3})
    raw["forecast"]["grid"].append([253402297800, 253402300799, 0.3])
    state = parsed(raw)
    assert state.problems == (
        ValueProblem("forecast.grid[24].end", "'9999-12-31T23:59:59Z'"),
        ValueProblem("forecast.grid[25][0]", "253402297800"),  # the start, when it is beyond too
        ValueProblem("forecast.solar.timeseries[72].ts", "'9999-12-31T23:30:00Z'"),
    )
    assert state.forecast == BASE.forecast
    # A point within the window (AT + 1098 days is 2028-09-10) whose slot would end beyond
    # it goes too; the point before it lasts until it, as each point lasts until the next.
    raw = demo_state()
    raw["forecast"]["solar"]["timeseries"].append({"ts": "2028-09-01T00:00:00Z", "val": 5000})
    state = parsed(raw)
    assert state.problems == (ValueProblem("forecast.solar.timeseries[72].ts", "'2028-09-01T00:00:00Z'"),)
    assert state.forecast.solar[-1] == dataclasses.replace(BASE.forecast.solar[-1], end=utc(2028, 9, 1))


def test_times_are_judged_against_the_poll() -> None:
    raw = demo_state()
    raw["forecast"] = {"grid": [{"start": "2027-01-01T00:00:00Z", "end": "2027-01-01T01:00:00Z", "value": 0.3}]}
    near, far = parsed(raw, AT), parsed(raw, AT - timedelta(days=3 * 366))
    assert near.forecast.grid == (Rate(utc(2027, 1, 1), utc(2027, 1, 1, 1), 0.3),) and near.problems == ()
    assert far.forecast.grid == ()
    assert far.problems == (ValueProblem("forecast.grid[0].start", "'2027-01-01T00:00:00Z'"),)


def test_one_parser_judges_each_poll_by_its_own_time() -> None:
    raw = demo_state()
    # Beyond the window of a poll at AT (2028-09-10T10:00Z), within that of a poll 400 days later.
    raw["forecast"]["grid"].append({"start": "2028-09-20T00:00:00Z", "end": "2028-09-20T01:00:00Z", "value": 0.3})
    raw["vehicles"]["vehicle_2"]["plan"]["time"] = "2028-09-20T06:00:00Z"
    body, shared = compact(raw), StateParser()
    times = [AT, AT, AT + timedelta(days=400), AT, AT - timedelta(days=1), AT + timedelta(days=400)]
    for at in times:
        line = recording_line(raw, at.isoformat().replace("+00:00", "Z"))
        assert shared.parse_state(body, at) == StateParser().parse_state(body, at)
        assert shared.parse_recording_line(line) == StateParser().parse_recording_line(line)
    early, late = shared.parse_state(body, AT), shared.parse_state(body, AT + timedelta(days=400))
    assert (len(early.forecast.grid), len(late.forecast.grid)) == (24, 25)  # type: ignore[union-attr]
    assert early.vehicles["vehicle_2"].plan_time is None  # type: ignore[union-attr]
    assert late.vehicles["vehicle_2"].plan_time == utc(2028, 9, 20, 6)  # type: ignore[union-attr]
    assert [p.path for p in early.problems] == ["vehicles.vehicle_2.plan.time", "forecast.grid[24].start"]  # type: ignore[union-attr]


def test_a_recording_line_from_year_9999_has_no_valid_time() -> None:
    _, poll = StateParser().parse_recording_line(recording_line(demo_state(), "9999-12-31T23:59:59Z"))
    assert (poll.kind, poll.message) == ("parse", 'recording line: no valid "t"')  # type: ignore[union-attr]


def test_numbers_are_strict() -> None:
    raw = demo_state()
    raw["loadpoints"][0].update(vehicleSoc=True, maxCurrent="16", phasesActive=1.0)
    state = parsed(raw)
    lp1 = state.loadpoints[0]
    assert (lp1.vehicle_soc_pct, lp1.max_current_a, lp1.phases_active) == (None, None, None)
    assert state.problems == ()  # wrong types are not impossible values, only unusable ones


def test_inspect_lists_the_problems() -> None:
    raw = demo_state()
    raw["loadpoints"][1]["maxCurrent"] = -16
    assert normalised_view(parsed(raw))["problems"] == [{"path": "loadpoints[1].maxCurrent", "value": "-16"}]
    assert normalised_view(BASE)["problems"] == []


def test_vehicle_names_that_are_not_identifiers_are_quoted_in_paths() -> None:
    raw = demo_state()
    raw["vehicles"]["db:69"] = {"title": "x", "capacity": -1}
    assert parsed(raw).problems == (ValueProblem('vehicles["db:69"].capacity', "-1"),)


def test_violations_name_every_value_out_of_range() -> None:
    """The checker the fuzz tests and benchmark rely on must itself find what is wrong."""
    at = utc(2025, 9, 8, 10)
    bad = SiteState(
        at=at, home_power_w=float("nan"), tariff_grid=1e5,
        battery=BatteryState(soc_pct=101.0, capacity_kwh=0.0),
        loadpoints=(LoadpointState(id=1, vehicle_soc_pct=0.0, min_current_a=16.0, max_current_a=6.0, phases_active=7),
                    LoadpointState(id=2, heating=True, vehicle_name="", temperature_c=400.0)),
        vehicles={"a": VehicleInfo("a", capacity_kwh=-1.0, plan_time=utc(2035, 1, 1))},
        forecast=Tariffs(grid=(Rate(at, at, 0.3), Rate(utc(9999, 1, 1), utc(9999, 1, 2), 0.1)),
                         solar=(Rate(at, at + timedelta(hours=1), -5.0),)),
    )
    assert violations(bad) == [
        "site.home_power_w = nan",
        "site.tariff_grid = 100000",
        "battery.soc_pct = 101",
        "battery.capacity_kwh = 0",
        "loadpoint 1.phases_active = 7",
        "loadpoint 1: min_current_a 16 above max_current_a 6",
        "loadpoint 1.vehicle_soc_pct = 0: evcc's value for no reading, not a SoC",
        "loadpoint 2.temperature_c = 400",
        "loadpoint 2: a device with a vehicle or a SoC",
        "vehicle a.capacity_kwh = -1",
        "vehicle a.plan_time = 2035-01-01T00:00:00+00:00: beyond 1098 days of the poll",
        "forecast.grid[0]: ends at 2025-09-08 10:00:00+00:00 before its start 2025-09-08 10:00:00+00:00",
        "forecast.grid[1].start = 9999-01-01T00:00:00+00:00: beyond 1098 days of the poll",
        "forecast.grid[1].end = 9999-01-02T00:00:00+00:00: beyond 1098 days of the poll",
        "forecast.solar[0].value = -5",
    ]
