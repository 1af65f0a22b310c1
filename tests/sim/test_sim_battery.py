"""The home battery: inverter behaviour and evcc's battery semantics (modes, limits, SoCs)."""

from __future__ import annotations

import pytest

from smartload.sim.battery import EXTERNAL_MODE_TTL_S
from smartload.sim.state_view import build_state

from .helpers import FULL_W, MIN_W, run, site, write

BATTERY = {"capacity_kwh": 10, "max_charge_w": 5000, "max_discharge_w": 5000, "soc_pct": 50}


def battery_site(*, pv_w: float = 0.0, house_w: float = 0.0, soc: float = 50.0, mode: str = "off",
                 controllable: bool = True, **control):
    battery = {**BATTERY, "soc_pct": soc, "controllable": controllable}
    s = site(pv_w=pv_w, house_w=house_w, battery=battery, control=control)
    s.loadpoint(1).set_mode(mode)
    return s


def test_normal_mode_stores_surplus_and_covers_deficits():
    s = battery_site(pv_w=3000)
    run(s, 10)
    assert (s.battery_charge_w, s.battery_discharge_w, s.grid_w) == (3000.0, 0.0, 0.0)
    s.hold(pv_w=8000.0)
    run(s, 10)
    assert (s.battery_charge_w, s.grid_w) == (5000.0, -3000.0)
    s.hold(pv_w=0.0, house_w=2000.0)
    run(s, 10)
    assert (s.battery_discharge_w, s.grid_w) == (2000.0, 0.0)
    assert s.control.mode == "unknown"


def test_battery_stops_at_its_reserve():
    s = battery_site(house_w=5000, soc=5.1)
    run(s, 10)
    # 10 Wh above the 5 % reserve, delivered through the discharge efficiency within 10 s.
    assert s.battery_discharge_w == pytest.approx(10 * 0.92**0.5 * 360)
    run(s, 60)
    assert s.battery_discharge_w == 0.0
    assert s.battery.soc_pct == pytest.approx(5.0)
    assert s.grid_w == 5000.0


def test_an_external_mode_expires_60_s_after_the_last_post(sim_log):
    s = battery_site(house_w=2000)
    run(s, 10)
    s.control.set_external("hold", s.t)
    s.request_control()
    set_at = s.t
    run(s, 10)
    assert (s.control.mode, s.battery_discharge_w, s.grid_w) == ("hold", 0.0, 2000.0)
    run(s, EXTERNAL_MODE_TTL_S - 10)
    assert s.control.mode == "hold" and s.t == set_at + 60
    run(s, 10)
    assert (s.control.mode, s.control.external, s.battery_discharge_w) == ("normal", "unknown", 2000.0)
    assert any("external battery mode expired" in m for m in sim_log)


def test_re_sending_the_external_mode_keeps_it():
    s = battery_site(house_w=2000)
    s.control.set_external("hold", s.t)
    for _ in range(5):
        run(s, 50)
        s.control.set_external("hold", s.t)
    run(s, 50)
    assert s.control.mode == "hold" and s.battery_discharge_w == 0.0
    run(s, 20)
    assert s.control.mode == "normal"


def test_deleting_the_external_mode_returns_to_normal_at_once():
    s = battery_site(house_w=2000)
    s.control.set_external("charge", s.t)
    run(s, 10)
    assert (s.control.mode, s.battery_charge_w, s.grid_w) == ("charge", 5000.0, 7000.0)
    s.control.set_external("unknown", s.t)
    s.request_control()
    run(s, 10)
    assert (s.control.mode, s.battery_discharge_w) == ("normal", 2000.0)


def test_grid_charge_limit_charges_the_battery_while_the_price_allows():
    s = battery_site()
    price = s.tariff.price_at(s.t)
    s.control.grid_charge_limit = price
    run(s, 10)
    assert (s.control.mode, s.control.grid_charge_active, s.battery_charge_w, s.grid_w) == (
        "charge", True, 5000.0, 5000.0)
    s.control.grid_charge_limit = price - 0.001
    s.request_control()
    run(s, 10)
    assert (s.control.mode, s.control.grid_charge_active, s.battery_charge_w) == ("normal", False, 0.0)


def test_discharge_control_holds_the_battery_while_a_car_fast_charges():
    s = battery_site(mode="now", battery_discharge_control=True)
    run(s, 10)
    assert s.battery_discharge_w == 5000.0
    run(s, 10)
    assert (s.control.mode, s.battery_discharge_w, s.grid_w) == ("hold", 0.0, pytest.approx(FULL_W))
    free = battery_site(mode="now")
    run(free, 30)
    assert (free.control.mode, free.battery_discharge_w) == ("unknown", 5000.0)


def test_below_priority_soc_the_battery_charges_first():
    s = battery_site(pv_w=6000, soc=30, mode="pv", priority_soc_pct=50)
    run(s, 300)
    assert (s.loadpoint(1).charge_power_w, s.battery_charge_w, s.grid_w) == (0.0, 5000.0, -1000.0)
    shared = battery_site(pv_w=6000, soc=30, mode="pv")
    run(shared, 300)
    assert shared.loadpoint(1).charge_power_w == pytest.approx(6000.0)
    assert shared.battery_charge_w == pytest.approx(0.0, abs=1e-6)


def test_above_buffer_soc_the_battery_keeps_a_car_charging():
    buffered = battery_site(pv_w=5000, soc=80, mode="pv", buffer_soc_pct=50)
    plain = battery_site(pv_w=5000, soc=80, mode="pv")
    for s in (buffered, plain):
        run(s, 100)
        assert s.loadpoint(1).charge_power_w == pytest.approx(5000.0)
        s.hold(pv_w=0.0)
        run(s, 300)
    assert buffered.loadpoint(1).charge_power_w == pytest.approx(MIN_W)
    assert buffered.battery_discharge_w == pytest.approx(MIN_W)
    assert plain.loadpoint(1).charge_power_w == 0.0


def test_above_buffer_start_soc_solar_charging_starts_from_the_battery():
    s = battery_site(soc=80, mode="pv", buffer_start_soc_pct=70)
    run(s, 10)
    assert s.loadpoint(1).charge_power_w == pytest.approx(MIN_W)
    assert s.battery_discharge_w == pytest.approx(MIN_W)
    below = battery_site(soc=60, mode="pv", buffer_start_soc_pct=70)
    run(below, 300)
    assert below.loadpoint(1).charge_power_w == 0.0


def test_a_battery_evcc_cannot_control_ignores_every_mode():
    s = battery_site(house_w=2000, mode="now", controllable=False, battery_discharge_control=True)
    assert write(s, "POST", "/api/batterymode/hold") == (200, 0)
    assert write(s, "POST", "/api/batterymode/charge") == (200, 0)
    refused = (400, {"error": "battery control not available"})
    assert write(s, "POST", "/api/batterygridchargelimit/0.5") == refused
    assert write(s, "DELETE", "/api/batterygridchargelimit") == refused
    assert write(s, "POST", "/api/batterydischargecontrol/false") == refused
    assert write(s, "POST", "/api/batterymode/turbo") == (400, {"error": "turbo does not belong to BatteryMode values"})
    run(s, 30)
    state = build_state(s, "0.315.0")
    # evcc still derives hold from discharge control (restored settings) and shows it; the
    # battery runs on its own and covers the house and the car.
    assert (state["batteryMode"], s.control.external, "batteryModeExternal" in state) == ("hold", "unknown", False)
    assert s.battery_discharge_w == 5000.0 and s.grid_w == pytest.approx(FULL_W + 2000 - 5000)
    assert state["battery"]["devices"][0]["controllable"] is False
    assert build_state(battery_site(), "0.315.0")["battery"]["devices"][0]["controllable"] is True


def test_without_a_battery_there_is_no_battery_control():
    s = site()
    assert write(s, "POST", "/api/batterymode/hold") == (200, 0)
    assert write(s, "POST", "/api/batterydischargecontrol/true") == (400, {"error": "battery control not available"})


def test_battery_mode_external_shows_once_set():
    s = battery_site()
    assert "batteryModeExternal" not in build_state(s, "0.315.0")
    assert write(s, "POST", "/api/batterymode/hold") == (200, 2)
    run(s, 10)
    assert {k: v for k, v in build_state(s, "0.315.0").items() if k.startswith("batteryMode")} == {
        "batteryMode": "hold", "batteryModeExternal": "hold"}
    run(s, EXTERNAL_MODE_TTL_S)
    assert {k: v for k, v in build_state(s, "0.315.0").items() if k.startswith("batteryMode")} == {
        "batteryMode": "normal", "batteryModeExternal": "unknown"}
