"""The evcc state parser over every fixture layout, exact values, and its error messages."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from smartload.domain import BatteryState, ChargeMode, LoadpointState, PollError, Rate, SiteState, VehicleInfo
from smartload.evcc.state import UNKNOWN_TIME, StateParser, parse_recording_line, parse_state, parse_tariff
from smartload.evcc.ws import fold_frames
from tests.fixtures_evcc import (
    AT,
    STATE_0132,
    STATE_0206,
    STATE_0207,
    STATE_0315,
    TARIFF_GRID,
    TARIFF_GRID_0202,
    WS_FORECAST_GRID,
    WS_WELCOME,
    body,
    compact,
    demo_state,
    load,
    recording_line,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parsed(raw: object, parser: StateParser | None = None) -> SiteState:
    result = (parser or StateParser()).parse_state(raw, AT)  # type: ignore[arg-type]
    assert isinstance(result, SiteState), result
    return result


def failed(raw: object) -> str:
    result = StateParser().parse_state(raw, AT)  # type: ignore[arg-type]
    assert isinstance(result, PollError), result
    assert result.kind == "parse" and result.at == AT
    return result.message


DEMO_LP1 = LoadpointState(
    id=1, title="Carport", mode=ChargeMode.PV, connected=True, charging=False, enabled=False,
    charge_power_w=0.0, vehicle_name="vehicle_1", vehicle_title="blauer e-Golf",
    vehicle_detection_active=False, vehicle_soc_pct=48.3, limit_soc_pct=80.0, effective_limit_soc_pct=80.0,
    min_current_a=6.0, max_current_a=15.0, phases_configured=1, phases_active=1, smart_cost_limit=0.0,
    session_energy_wh=1182321.351, disabled=False,
)  # fmt: skip
DEMO_BATTERY = BatteryState(
    power_w=188.786, soc_pct=31.0, capacity_kwh=13.4, mode="charge", discharge_control=True,
    grid_charge_limit=0.25, buffer_soc_pct=75.0, buffer_start_soc_pct=0.0, priority_soc_pct=50.0,
    controllable=True,
)  # fmt: skip


def test_demo_0207_site_battery_and_tariffs() -> None:
    state = parsed(body(STATE_0207))
    assert (state.at, state.version, state.currency) == (AT, "0.207.5", "EUR")
    assert (state.grid_power_w, state.pv_power_w, state.home_power_w) == (2875.972497154853, 8475.242, 500.0)
    assert state.battery == DEMO_BATTERY
    assert (state.tariff_grid, state.tariff_feedin) == (0.211, 0.08)
    grid = state.forecast.grid
    assert len(grid) == 24
    assert grid[0] == Rate(utc(2025, 9, 7, 22), utc(2025, 9, 7, 23), 0.22965999999999998)
    assert grid[-1] == Rate(utc(2025, 9, 8, 21), utc(2025, 9, 8, 22), 0.26312)
    assert state.forecast.feedin == ()
    solar = state.forecast.solar
    assert len(solar) == 72
    assert solar[8] == Rate(utc(2025, 9, 8, 6), utc(2025, 9, 8, 7), 5124.0)
    assert solar[-1] == Rate(utc(2025, 9, 10, 21), utc(2025, 9, 10, 22), 0.0)
    assert all(rate.start.tzinfo is UTC for rate in (*grid, *solar))


def test_demo_0207_loadpoints_and_vehicles() -> None:
    state = parsed(body(STATE_0207))
    lp1, lp2 = state.loadpoints
    assert lp1 == DEMO_LP1
    assert (lp2.id, lp2.title, lp2.mode, lp2.charging) == (2, "Garage", ChargeMode.NOW, True)
    # evcc shows vehicleSoc 0 for a car it has no reading of: unknown, not empty.
    assert (lp2.charge_power_w, lp2.vehicle_name, lp2.vehicle_soc_pct) == (11040.0, "vehicle_5", None)
    assert (lp2.phases_active, lp2.smart_cost_limit) == (3, 0.12)
    assert sorted(state.vehicles) == ["vehicle_1", "vehicle_2", "vehicle_3", "vehicle_4", "vehicle_5"]
    assert state.vehicles["vehicle_1"] == VehicleInfo("vehicle_1", "blauer e-Golf", 44.0, 15.0, 80.0, None, None)
    assert state.vehicles["vehicle_2"] == VehicleInfo(
        "vehicle_2", "weißes Model 3", 80.0, 40.0, 80.0, 80.0, utc(2025, 9, 8, 6)
    )
    assert state.vehicles["vehicle_5"].capacity_kwh is None


def test_result_wrapper_before_0207_gives_the_same_state() -> None:
    old = parsed(body(STATE_0206))
    assert old.version == "0.206.1"
    assert dataclasses.replace(old, version="0.207.5") == parsed(body(STATE_0207))


def test_grid_power_before_0133() -> None:
    state = parsed(body(STATE_0132))
    assert (state.version, state.grid_power_w) == ("0.132.1", 2875.972497154853)
    assert state.forecast.is_empty()
    assert state.battery == DEMO_BATTERY
    assert state.loadpoints[0] == DEMO_LP1


def test_battery_object_and_compact_forecast_since_0315() -> None:
    new, old = parsed(body(STATE_0315)), parsed(body(STATE_0207))
    assert new.version == "0.315.0"
    assert (new.battery.power_w, new.battery.soc_pct, new.battery.capacity_kwh) == (188.786, 31.0, 13.4)  # type: ignore[union-attr]
    assert new.forecast.grid == old.forecast.grid
    assert new.forecast.solar == old.forecast.solar
    assert len(new.forecast.feedin) == 24
    assert new.forecast.feedin[0] == Rate(utc(2025, 9, 7, 22), utc(2025, 9, 7, 23), 0.08)
    assert new.loadpoints[:2] == old.loadpoints
    lp3 = new.loadpoints[2]
    assert (lp3.id, lp3.title, lp3.disabled, lp3.mode, lp3.connected) == (3, "Carport 2", True, ChargeMode.OFF, False)


def test_websocket_welcome_0315() -> None:
    state = parsed(body(WS_WELCOME))
    assert (state.version, state.grid_power_w) == ("0.315.0", 737.5999755859375)
    assert (state.pv_power_w, state.home_power_w) == (266.0, 1003.6)
    assert state.battery == BatteryState(
        power_w=0.0, soc_pct=0.0, capacity_kwh=8.82, mode="unknown", discharge_control=True,
        grid_charge_limit=None, buffer_soc_pct=100.0, buffer_start_soc_pct=0.0, priority_soc_pct=70.0,
        controllable=True,
    )  # fmt: skip
    assert (state.tariff_grid, state.tariff_feedin) == (0.28, 0.08)
    assert state.forecast.is_empty()
    lp1, lp2, lp3 = state.loadpoints
    assert (lp1.title, lp1.vehicle_name, lp1.vehicle_soc_pct, lp1.limit_soc_pct, lp1.effective_limit_soc_pct) == (
        "Garage Linke Wand", "db:69", 56.0, 0.0, 80.0
    )
    assert (lp1.max_current_a, lp1.phases_configured, lp1.smart_cost_limit) == (32.0, 0, None)
    assert (lp2.id, lp2.vehicle_name, lp2.limit_soc_pct, lp2.session_energy_wh, lp2.max_current_a) == (
        2, "db:100", 80.0, 5616.21, None
    )
    # A pool pump (chargerFeatureIntegratedDevice) is a device, not a guest car.
    assert (lp3.title, lp3.is_device, lp3.integrated_device, lp3.heating) == ("Pool Pumpe", True, True, False)
    assert (lp3.vehicle_name, lp3.is_guest, lp3.identified_vehicle, lp3.vehicle_soc_pct) == (None, False, None, None)
    assert state.vehicles["db:100"] == VehicleInfo(
        "db:100", "Audi Q4 e-tron", 77.0, None, 80.0, None, None, ("Streaming", "WelcomeCharge", "Streaming")
    )


def test_forecast_shard_alone_is_not_a_state_but_folds_onto_the_welcome() -> None:
    assert failed(body(WS_FORECAST_GRID)) == "not an evcc state: only a forecast (a websocket forecast shard alone?)"
    state = parsed(fold_frames([body(WS_WELCOME), body(WS_FORECAST_GRID)]))
    assert len(state.forecast.grid) == 8
    assert state.forecast.grid[0] == Rate(utc(2026, 9, 4, 6), utc(2026, 9, 4, 6, 15), 0.28)
    assert state.forecast.grid[-1].end == utc(2026, 9, 4, 8)
    assert len(state.loadpoints) == 3


def test_an_update_frame_changes_only_its_keys() -> None:
    state = parsed(fold_frames([body(WS_WELCOME), {"loadpoints.0.connected": False, "homePower": 12}]))
    assert (state.loadpoints[0].connected, state.loadpoints[1].connected, state.home_power_w) == (False, True, 12.0)


def test_guest_and_detection() -> None:
    raw = demo_state()
    raw["loadpoints"][0].update(vehicleName="", vehicleTitle="")
    raw["loadpoints"][1].update(vehicleName="", vehicleDetectionActive=True)
    guest, detecting = parsed(compact(raw)).loadpoints
    assert (guest.vehicle_name, guest.is_guest, guest.identified_vehicle) == ("", True, None)
    assert (detecting.vehicle_detection_active, detecting.is_guest, detecting.identified_vehicle) == (True, False, None)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("off", ChargeMode.OFF), ("pv", ChargeMode.PV), ("minpv", ChargeMode.MINPV), ("now", ChargeMode.NOW),
     ("smart", ChargeMode.SMART), ("turbo", None), (5, None), (None, None)],
)  # fmt: skip
def test_modes_unknown_is_none(mode: object, expected: ChargeMode | None) -> None:
    raw = demo_state()
    raw["loadpoints"][0]["mode"] = mode
    lp = parsed(compact(raw)).loadpoints[0]
    assert lp.mode == expected
    assert dataclasses.replace(lp, mode=ChargeMode.PV) == DEMO_LP1


def test_nulls_and_wrong_types_spoil_only_their_field() -> None:
    raw = demo_state()
    raw["homePower"] = "lots"
    raw["grid"] = None
    raw["battery"] = "x"
    raw["vehicles"] = ["not", "a", "map"]
    raw["loadpoints"][0].update(connected=None, vehicleSoc={"v": 1}, phasesActive=1.5, title=None)
    state = parsed(compact(raw))
    assert (state.home_power_w, state.grid_power_w, state.pv_power_w) == (None, None, 8475.242)
    # from batteryPower/batterySoc/batteryCapacity; only the list said it is controllable
    assert state.battery == dataclasses.replace(DEMO_BATTERY, controllable=None)
    assert state.vehicles == {}
    assert state.loadpoints[0] == dataclasses.replace(
        DEMO_LP1, connected=False, vehicle_soc_pct=None, phases_active=None, title=""
    )
    assert state.loadpoints[1].charge_power_w == 11040.0


def test_numbers_beyond_float_range_are_wrong_types() -> None:
    raw = demo_state()
    raw["homePower"] = 10**400
    raw["forecast"]["grid"][3]["value"] = 10**400
    raw["forecast"]["solar"]["timeseries"][3]["val"] = -(10**400)
    state = parsed(compact(raw))
    assert state == parsed(raw)
    assert (state.home_power_w, state.pv_power_w) == (None, 8475.242)
    assert (len(state.forecast.grid), len(state.forecast.solar)) == (23, 71)
    assert state.forecast.solar[2] == Rate(utc(2025, 9, 8, 0), utc(2025, 9, 8, 2), 0.0)


def test_a_broken_loadpoint_keeps_the_ids_of_the_others() -> None:
    raw = demo_state()
    raw["loadpoints"][0] = 5
    (lp,) = parsed(compact(raw)).loadpoints
    assert (lp.id, lp.title) == (2, "Garage")


def test_rates_price_key_and_bad_entries() -> None:
    raw = demo_state()
    rates = raw["forecast"]["grid"]
    for rate in rates:
        rate["price"] = rate.pop("value")
    rates[1]["end"] = rates[1]["start"]  # empty slot
    rates[2]["start"] = "yesterday"
    rates[3] = [1, 2]
    grid = parsed(compact(raw)).forecast.grid
    assert len(grid) == 21
    assert grid[0] == Rate(utc(2025, 9, 7, 22), utc(2025, 9, 7, 23), 0.22965999999999998)
    assert grid[1].start == utc(2025, 9, 8, 2)


def test_mapping_str_and_bytes_inputs_agree() -> None:
    expected = parsed(body(STATE_0207))
    assert parsed(load(STATE_0207)) == expected
    assert parsed(body(STATE_0207).decode()) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not JSON: Expecting value at line 1 col 1"),
        (b"<html>502 Bad Gateway</html>", "not JSON: Expecting value at line 1 col 1"),
        (b'{"loadpoints": [}', "not JSON: Expecting value at line 1 col 17"),
        (b'{"a": "\xc3\x28"}', "not JSON: invalid UTF-8 at byte 7"),
        (b"[1, 2]", "not an evcc state: a JSON list, not an object"),
        (b"42", "not an evcc state: a JSON number, not an object"),
        (b"null", "not an evcc state: a JSON null, not an object"),
        ([{"a": 1}], "not an evcc state: a JSON list, not an object"),
        (b"{}", "not an evcc state: an empty object"),
        (b'{"result": {}}', "not an evcc state: an empty object"),
        (b'{"foo": 1, "bar": []}', "not an evcc state: no loadpoints and no site keys (keys: bar, foo)"),
        (body(TARIFF_GRID), 'not an evcc state: a tariff body ({"rates": [...]}), not a state'),
    ],
)
def test_not_a_state(raw: object, message: str) -> None:
    assert failed(raw) == message


def test_recording_lines() -> None:
    at, state = parse_recording_line(recording_line(demo_state(), "2025-09-08T12:00:00+02:00"))
    assert at == utc(2025, 9, 8, 10) and at.tzinfo is UTC
    assert isinstance(state, SiteState) and state.at == at and state.loadpoints[0] == DEMO_LP1
    line = compact({"t": "2025-09-08T10:00:10Z", "error": "All connection attempts failed", "kind": "connect"})
    assert parse_recording_line(line) == (
        utc(2025, 9, 8, 10, 0, 10),
        PollError(utc(2025, 9, 8, 10, 0, 10), "connect", "All connection attempts failed"),
    )
    _, error = parse_recording_line('{"t": "2025-09-08T10:00:20Z", "error": "timeout: no answer in 5 s"}')
    assert error == PollError(utc(2025, 9, 8, 10, 0, 20), "timeout", "no answer in 5 s")
    _, error = parse_recording_line('{"t": "2025-09-08T10:00:30Z", "error": "HTTP 500"}')
    assert (error.kind, error.message) == ("http", "HTTP 500")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("line", "at", "message"),
    [
        (b"not json", UNKNOWN_TIME, "recording line: not JSON: Expecting value at line 1 col 1"),
        (b"[]", UNKNOWN_TIME, "recording line: a JSON list, not an object"),
        (b'{"state": {}}', UNKNOWN_TIME, 'recording line: no valid "t"'),
        (b'{"t": "soon", "state": {}}', UNKNOWN_TIME, 'recording line: no valid "t"'),
        (b'{"t": "2025-09-08T10:00:00Z"}', AT, 'recording line: neither "state" nor "error"'),
        (b'{"t": "2025-09-08T10:00:00Z", "state": [1]}', AT, "not an evcc state: a JSON list, not an object"),
        (b'{"t": "2025-09-08T10:00:00Z", "state": {"x": 1}}', AT,
         "not an evcc state: no loadpoints and no site keys (keys: x)"),
    ],
)  # fmt: skip
def test_bad_recording_lines(line: bytes, at: datetime, message: str) -> None:
    assert parse_recording_line(line) == (at, PollError(at, "parse", message))


def test_recording_line_of_a_welcome_frame_and_of_a_wrapped_state() -> None:
    _, welcome = parse_recording_line(recording_line(load(WS_WELCOME)))
    assert welcome == parsed(body(WS_WELCOME))
    _, wrapped = parse_recording_line(recording_line(load(STATE_0206)))
    assert wrapped == parsed(body(STATE_0206))


def no_slow_path(*_: object) -> None:
    raise AssertionError("the fast path gave up")


def test_remembered_forecast_follows_every_change(monkeypatch: pytest.MonkeyPatch) -> None:
    parser, lines, expected = StateParser(), [], []
    for i, price in enumerate([0.5, 0.5, 0.5, 0.7, 0.5, 0.5]):
        raw = demo_state()
        raw["homePower"] = i
        raw["forecast"]["grid"][0]["value"] = price
        lines.append(recording_line(raw))
        expected.append(StateParser().parse_recording_line(lines[-1]))
    # Cutting the known forecast out of a line must leave valid JSON for the fast path.
    monkeypatch.setattr(StateParser, "_line_slow", no_slow_path)
    results = [parser.parse_recording_line(line) for line in lines]
    assert results == expected
    assert [state.forecast.grid[0].value for _, state in results] == [0.5, 0.5, 0.5, 0.7, 0.5, 0.5]  # type: ignore[union-attr]
    assert [state.home_power_w for _, state in results] == [0, 1, 2, 3, 4, 5]  # type: ignore[union-attr]
    # The forecast's bytes were located, so polls now skip it (the point of the memo).
    assert parser._forecast._last.region is not None


def test_remembered_forecast_is_not_fooled_by_a_nested_forecast_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StateParser, "_state_slow", no_slow_path)
    parser = StateParser()
    raw = load(STATE_0315)
    for _ in range(3):
        assert parsed(compact(raw), parser).forecast.grid[0].value == 0.22965999999999998
    raw["forecast"]["grid"][0][2] = 0.99
    assert parsed(compact(raw), parser).forecast.grid[0].value == 0.99
    raw["forecast"] = None
    assert parsed(compact(raw), parser).forecast.is_empty()


def test_module_functions_use_one_shared_parser() -> None:
    assert parse_state(body(STATE_0207), AT) == parsed(body(STATE_0207))


def test_tariff_bodies() -> None:
    rates = parse_tariff(body(TARIFF_GRID))
    assert len(rates) == 24
    assert rates[0] == Rate(utc(2025, 9, 7, 22), utc(2025, 9, 7, 23), 0.22965999999999998)
    assert rates[20].value == 0.4585199999999999
    assert parse_tariff(body(TARIFF_GRID_0202)) == rates
    assert parse_tariff(load(TARIFF_GRID)) == rates
    assert parse_tariff('{"rates": [[1788501600, 1788502500, 0.28]]}') == (
        Rate(utc(2026, 9, 4, 6), utc(2026, 9, 4, 6, 15), 0.28),
    )
    assert parse_tariff(b'{"rates": []}') == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{}", 'not a tariff body: expected {"rates": [...]}, got a JSON object'),
        (b'{"rates": 5}', 'not a tariff body: expected {"rates": [...]}, got a JSON object'),
        (b"7", 'not a tariff body: expected {"rates": [...]}, got a JSON number'),
        (b"<html>", "not a tariff body: not JSON: Expecting value at line 1 col 1"),
    ],
)
def test_not_a_tariff(raw: bytes, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_tariff(raw)
    assert str(caught.value) == message


def test_evcc_s_solar_adjusted_switch_as_each_version_shows_it() -> None:
    """0.313's demo and the 0.315 welcome (a real installation, with it on) say whether
    evcc adjusts its solar forecast; 0.207 does not say; a value that is no bool spoils
    only itself."""
    assert parsed(body("api-state_0.313_demo.json")).solar_adjusted is False
    assert parsed(body(WS_WELCOME)).solar_adjusted is True
    assert parsed(body(STATE_0207)).solar_adjusted is None
    raw = demo_state()
    raw["solarAdjusted"] = True
    assert parsed(compact(raw)).solar_adjusted is True
    raw["solarAdjusted"] = "maybe"
    state = parsed(compact(raw))
    assert (state.solar_adjusted, state.pv_power_w) == (None, 8475.242)
