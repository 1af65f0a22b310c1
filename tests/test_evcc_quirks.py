"""evcc habits read right (issue 15 §2), on real evcc 0.313 bodies: a car without a SoC
reading shows vehicleSoc 0 (unknown, not empty); a heat pump at a loadpoint is a device
whose "SoC" is a temperature; batteries say whether they can be controlled."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reactivex.scheduler import HistoricalScheduler

from smartload.domain import ChargeMode, LoadpointState, SiteState, SocReading, VehicleInfo
from smartload.evcc.forecast import parse_tariff
from smartload.evcc.ranges import violations
from smartload.evcc.state import StateParser
from smartload.evcc.view import inspect_file, normalised_view
from smartload.evcc.ws import fold_frames
from smartload.streams.soc import evcc_socs
from tests.fixtures_evcc import DATA, WS_FORECAST_GRID, WS_WELCOME, body, compact, load
from tests.timeline import timeline

AT = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
DEMO = "api-state_0.313_demo.json"
HOLD = "api-state_0.313_demo_batteryhold.json"
OFFLINE = "api-state_0.313_demo_offline-vehicle_DERIVED.json"


def parsed(raw: bytes | dict) -> SiteState:
    state = StateParser().parse_state(raw if isinstance(raw, bytes) else compact(raw), AT)
    assert isinstance(state, SiteState), state
    return state


HEAT_PUMP = LoadpointState(
    id=3, title="Heat pump", mode=ChargeMode.PV, connected=True, charging=True, enabled=True,
    charge_power_w=3977.654, vehicle_name=None, vehicle_title=None, vehicle_detection_active=False,
    vehicle_soc_pct=None, limit_soc_pct=None, effective_limit_soc_pct=None, min_current_a=6.0, max_current_a=16.0,
    phases_configured=3, phases_active=3, smart_cost_limit=None, session_energy_wh=0.0, disabled=False,
    heating=True, integrated_device=True, temperature_c=48.1, target_temperature_c=65.0,
)  # fmt: skip


def test_the_heat_pump_is_a_device_with_a_temperature_not_a_car() -> None:
    state = parsed(body(DEMO))
    car1, car2, pump = state.loadpoints
    assert pump == HEAT_PUMP
    assert (pump.is_device, pump.is_guest, pump.identified_vehicle) == (True, False, None)
    assert (car1.is_device, car1.identified_vehicle, car1.vehicle_soc_pct) == (False, "vehicle_1", 62.3)
    assert (car2.identified_vehicle, car2.vehicle_soc_pct, car2.phases_configured) == ("vehicle_2", 21.0, 0)
    assert state.problems == ()


def test_inspect_shows_the_heat_pump_as_heating_with_its_temperatures(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(body(DEMO))
    pump = inspect_file(path)["loadpoints"][2]
    assert {k: pump[k] for k in ("device", "vehicle", "guest", "identified_vehicle", "soc_pct", "limit_soc_pct",
                                 "temperature_c", "target_temperature_c")} == {
        "device": "heating", "vehicle": None, "guest": False, "identified_vehicle": None, "soc_pct": None,
        "limit_soc_pct": None, "temperature_c": 48.1, "target_temperature_c": 65.0,
    }


def test_an_offline_car_at_a_loadpoint_has_an_unknown_soc() -> None:
    state = parsed(body(OFFLINE))
    garage = state.loadpoints[1]
    assert (garage.identified_vehicle, garage.vehicle_title, garage.vehicle_soc_pct) == (
        "vehicle_3", "green Honda e", None)
    assert state.vehicles["vehicle_3"] == VehicleInfo("vehicle_3", "green Honda e", 8.0, features=("Offline",))
    assert state.vehicles["vehicle_1"].features == ()
    assert normalised_view(state)["loadpoints"][1]["soc_pct"] is None
    assert normalised_view(state)["vehicles"]["vehicle_4"]["features"] == ["Offline"]


def test_vehicle_soc_zero_is_unknown_with_or_without_a_feature_list() -> None:
    """evcc is written in Go: 0 is the value of a SoC nobody read."""
    raw = load(DEMO)
    raw["loadpoints"][0]["vehicleSoc"] = 0
    assert parsed(raw).loadpoints[0].vehicle_soc_pct is None
    raw["loadpoints"][0]["vehicleSoc"] = 0.4  # a car that truly reads (almost) empty
    assert parsed(raw).loadpoints[0].vehicle_soc_pct == 0.4


def test_no_soc_reading_reaches_the_soc_stream_from_a_device_or_an_offline_car() -> None:
    states = [parsed(body(DEMO)), parsed(body(OFFLINE))]
    states[1] = dataclasses.replace(states[1], at=AT.replace(minute=31))
    scheduler = HistoricalScheduler(initial_clock=AT)
    readings: list[SocReading] = []
    evcc_socs(timeline([(s.at, s) for s in states])).subscribe(readings.append, scheduler=scheduler)
    scheduler.start()
    assert [(r.vehicle, r.soc_pct) for r in readings] == [("vehicle_1", 62.3), ("vehicle_2", 21.0)]


def test_a_heating_temperature_out_of_range_is_a_problem() -> None:
    raw = load(DEMO)
    raw["loadpoints"][2].update(vehicleSoc=400, vehicleLimitSoc=-80)
    state = parsed(raw)
    pump = state.loadpoints[2]
    assert (pump.temperature_c, pump.target_temperature_c) == (None, None)
    assert [(p.path, p.value) for p in state.problems] == [
        ("loadpoints[2].vehicleSoc", "400"), ("loadpoints[2].vehicleLimitSoc", "-80")]


def test_an_integrated_device_that_does_not_heat_has_no_temperature() -> None:
    raw = load(DEMO)
    raw["loadpoints"][2].update(chargerFeatureHeating=False, vehicleName="vehicle_1")
    pump = parsed(raw).loadpoints[2]
    assert (pump.is_device, pump.heating, pump.temperature_c, pump.vehicle_name, pump.identified_vehicle) == (
        True, False, None, None, None)
    assert pump.limit_soc_pct == 0.0  # not a heating device: its limits are percentages again


@pytest.mark.parametrize(
    ("devices", "controllable"),
    [([True], True), ([True, False], False), ([None, True], True), ([None], None), (["yes"], None), ([], None)],
)
def test_battery_controllable(devices: list, controllable: bool | None) -> None:
    raw = load(DEMO)
    raw["battery"]["devices"] = [{"name": f"b{i}", "controllable": c} for i, c in enumerate(devices)]
    assert parsed(raw).battery.controllable is controllable  # type: ignore[union-attr]


def test_the_real_0313_battery_and_the_hold_mode() -> None:
    demo, hold = parsed(body(DEMO)).battery, parsed(body(HOLD)).battery
    assert (demo.soc_pct, demo.capacity_kwh, demo.mode, demo.controllable) == (48.0, 13.4, "unknown", True)  # type: ignore[union-attr]
    assert (hold.soc_pct, hold.mode, hold.controllable) == (71.0, "hold", True)  # type: ignore[union-attr]


def test_the_real_0313_forecast_arrays() -> None:
    state = parsed(body(DEMO))
    assert (len(state.forecast.grid), len(state.forecast.feedin), len(state.forecast.solar)) == (288, 632, 288)
    assert state.forecast.grid[0].value == 0.239
    assert state.forecast.grid[0].start == datetime(2026, 12, 3, tzinfo=UTC)


STATE_FILES = sorted(p.name for p in DATA.glob("*.json") if not p.name.startswith(("api-tariff", "ws-forecast")))
TARIFF_FILES = sorted(p.name for p in DATA.glob("api-tariff*.json"))


def test_every_fixture_is_covered() -> None:
    assert len(STATE_FILES) + len(TARIFF_FILES) + 1 == len(list(DATA.glob("*.json")))  # +1: the forecast shard


@pytest.mark.parametrize("name", STATE_FILES)
def test_every_state_fixture_parses_sane(name: str) -> None:
    state = parsed(body(name))
    assert state.loadpoints and (state.problems, violations(state)) == ((), [])
    assert json.loads(json.dumps(normalised_view(state))) == normalised_view(state)


@pytest.mark.parametrize("name", TARIFF_FILES)
def test_every_tariff_fixture_parses(name: str) -> None:
    rates = parse_tariff(body(name))
    assert rates and all(rate.end > rate.start for rate in rates)


def test_the_forecast_shard_parses_folded_onto_the_welcome() -> None:
    state = parsed(compact(fold_frames([body(WS_WELCOME), body(WS_FORECAST_GRID)])))
    assert len(state.forecast.grid) == 8
