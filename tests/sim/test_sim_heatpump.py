"""A heat pump loadpoint: the tank's thermostat, evcc's boost, the site's balance, the state
evcc shows for it (as real 0.313's demo heat pump), and that it never takes a car."""

from __future__ import annotations

import httpx
import pytest

from smartload.settings.sim import SimSettings
from smartload.sim.heatpump import HeatPump
from smartload.sim.scenario import HeatPumpSpec
from smartload.sim.server import SimServer
from smartload.sim.site import Site
from smartload.sim.state_view import build_state

from .helpers import BASE, HEATPUMP_LP, local, merge, run, scenario, site, write

# Joules per kelvin of the default 300 l tank.
TANK_J_PER_K = 300 * 4186.0


def heat_site(temp_c: float = 48.0, start: str = "2024-07-15T20:00:00", **heatpump) -> Site:
    lp = {**HEATPUMP_LP, "heatpump": {"temp_c": temp_c, **heatpump}}
    return site(start, loadpoints=[BASE["loadpoints"][0], lp])


def hp_state(s: Site) -> dict:
    return build_state(s, "0.315.0")["loadpoints"][1]


def test_the_tank_heats_by_the_cop_and_cools_by_its_losses():
    hp = HeatPump(HeatPumpSpec(temp_c=39))
    assert hp.step(False, 60) == 3000.0
    assert hp.temp_c == pytest.approx(39 + (3000 * 3 - 250) * 60 / TANK_J_PER_K, abs=1e-12)
    # It runs up to its own setpoint (45) and stops there.
    while hp.step(False, 60):
        pass
    assert 45.0 <= hp.temp_c < 45.0 + 8750 * 60 / TANK_J_PER_K
    idle = HeatPump(HeatPumpSpec(temp_c=50))
    assert idle.step(False, 3600) == 0.0
    assert idle.temp_c == pytest.approx(50 - 250 * 3600 / TANK_J_PER_K, abs=1e-12)
    # Only below setpoint - hysteresis does it start again; evcc's boost raises the setpoint.
    assert (HeatPump(HeatPumpSpec(temp_c=41)).step(False, 10), HeatPump(HeatPumpSpec(temp_c=59)).step(True, 10),
            HeatPump(HeatPumpSpec(temp_c=61)).step(True, 10)) == (0.0, 3000.0, 0.0)
    cold = HeatPump(HeatPumpSpec(temp_c=20.1, normal_c=None))
    cold.step(False, 3600)
    assert cold.temp_c == 20.0  # never below ambient
    switched = HeatPump(HeatPumpSpec(temp_c=21, normal_c=None))
    assert switched.step(False, 10) == 0.0 and switched.step(True, 10) == 3000.0


def test_the_state_shows_the_heat_pump_as_evcc_does():
    s = heat_site()
    run(s, 600)
    state = hp_state(s)
    temp = 48 - 250 * 600 / TANK_J_PER_K
    assert s.loadpoint(2).device.temp_c == pytest.approx(temp, abs=1e-9)
    expected = {
        "title": "Heat pump", "connected": True, "charging": False, "enabled": False, "chargePower": 0.0,
        "connectedDuration": 600, "vehicleName": "", "vehicleTitle": "", "vehicleSoc": round(temp, 3),
        "vehicleLimitSoc": 65, "vehicleRange": 0, "vehicleOdometer": 0, "vehicleDetectionActive": False,
        "effectiveLimitSoc": 100, "limitSoc": 0, "minSocNotReached": False, "chargeRemainingEnergy": 0.0,
        "chargerFeatureHeating": True, "chargerFeatureIntegratedDevice": True, "chargerFeatureSwitchDevice": True,
        "chargerFeatureContinuous": True, "chargerFeatureOffline": False, "chargerFeatureWelcomeCharge": False,
        "chargerIcon": "heatpump", "ui": {"minTemp": 30.0, "maxTemp": 70.0},
    }
    assert {key: state[key] for key in expected} == expected
    garage = build_state(s, "0.315.0")["loadpoints"][0]
    assert (garage["chargerFeatureHeating"], garage["chargerIcon"], "ui" in garage) == (False, None, False)


def test_its_power_enters_the_site_balance():
    s = heat_site(temp_c=39.0)
    s.hold(pv_w=1000.0, house_w=500.0)
    s.loadpoint(1).set_mode("off")
    run(s, 60)
    lp = s.loadpoint(2)
    # Below 40 °C its own thermostat runs it, evcc not boosting (SG-ready "normal", status B).
    assert (lp.charge_power_w, lp.enabled, s.grid_w) == (3000.0, False, 2500.0)
    state = hp_state(s)
    assert (state["chargePower"], state["charging"], state["chargedEnergy"]) == (3000.0, False, 50.0)
    assert s.totals.loadpoints_wh == pytest.approx(50.0)
    assert s.totals.import_wh == pytest.approx(2500 * 60 / 3600)


def test_mode_now_boosts_to_the_boost_temperature_then_idles():
    s = heat_site()
    lp = s.loadpoint(2)
    lp.set_mode("now")
    run(s, 10)
    assert (lp.enabled, lp.charge_power_w, hp_state(s)["charging"], hp_state(s)["offeredCurrent"]) == (
        True, 3000.0, True, 16.0)
    # 17 K at 8750 W net heat: 2439.8 s; it stops at the first 10 s step past 65 °C.
    run(s, 2430)
    assert lp.charge_power_w == 3000.0
    run(s, 10)
    assert lp.charge_power_w == 0.0 and lp.enabled
    assert lp.device.temp_c == pytest.approx(48 + 8750 * 2440 / TANK_J_PER_K - 250 * 10 / TANK_J_PER_K, abs=1e-9)
    assert hp_state(s)["charging"] is True  # boosted (status C) while it draws nothing


def test_off_leaves_it_to_its_own_thermostat_unless_it_has_none():
    own = heat_site(temp_c=39.0)
    own.loadpoint(2).set_mode("off")
    run(own, 10)
    assert (own.loadpoint(2).enabled, own.loadpoint(2).charge_power_w) == (False, 3000.0)
    switched = heat_site(temp_c=39.0, normal_c=None)
    switched.loadpoint(2).set_mode("off")
    run(switched, 3600)
    assert switched.loadpoint(2).charge_power_w == 0.0
    assert switched.loadpoint(2).device.temp_c == pytest.approx(39 - 250 * 3600 / TANK_J_PER_K, abs=1e-9)


def test_limitsoc_and_mintemp_are_temperatures():
    s = heat_site()
    lp = s.loadpoint(2)
    assert write(s, "POST", "/api/loadpoints/2/mode/now") == (200, "now")
    assert write(s, "POST", "/api/loadpoints/2/limitsoc/50") == (200, 50)
    run(s, 10)
    assert lp.enabled
    run(s, 290)
    # 2 K take 287 s; evcc's limit (effectiveLimitSoc 50) then ends the boost.
    assert (lp.enabled, lp.charge_power_w, hp_state(s)["effectiveLimitSoc"]) == (False, 0.0, 50)
    cold = heat_site(temp_c=46.0)
    cold.loadpoint(2).set_mode("off")
    assert write(cold, "POST", "/api/loadpoints/2/mintemp/47") == (200, 47)
    cold.loadpoint(2).set_mode("pv")
    run(cold, 10)
    state = hp_state(cold)
    assert (state["minSoc"], state["effectiveMinSoc"], state["minSocNotReached"], state["enabled"]) == (
        47, 47, True, True)


def test_pv_mode_boosts_on_surplus_after_the_enable_delay():
    s = heat_site(temp_c=50.0)
    s.hold(pv_w=6000.0)
    s.loadpoint(1).set_mode("off")
    lp = s.loadpoint(2)
    run(s, 60)
    assert (lp.enabled, lp.pv_action, lp.pv_remaining_s, lp.charge_power_w) == (False, "enable", 10.0, 0.0)
    run(s, 10)
    # Boosted below 60 °C the compressor runs at once.
    assert (lp.enabled, lp.charge_power_w, s.grid_w) == (True, 3000.0, -3000.0)
    run(s, 600)
    # The surplus left (3 kW, 4.3 A) is below the 6 A minimum but nothing is imported:
    # evcc keeps it enabled (disable threshold 0).
    assert (lp.enabled, lp.charge_power_w, lp.pv_action) == (True, 3000.0, "inactive")


def test_a_heating_session_starts_at_each_local_midnight():
    s = heat_site(temp_c=39.0, start="2024-07-15T23:59:00")
    s.loadpoint(1).set_mode("off")
    run(s, 60)
    assert hp_state(s)["chargedEnergy"] == 50.0
    run(s, 10)
    assert hp_state(s)["chargedEnergy"] == pytest.approx(3000 * 10 / 3600, abs=1e-3)
    assert s.loadpoint(2).total_import_wh == pytest.approx(3000 * 70 / 3600)


def test_a_heat_pump_takes_no_car():
    s = heat_site()
    with pytest.raises(ValueError, match="loadpoint 2 is a heat pump: it takes no car"):
        s.plug_in("ev", 2)
    with pytest.raises(ValueError, match="heat pump"):
        s.hand_over(2, "ev")
    with pytest.raises(ValueError, match="vehicle 'ev' refers to loadpoint 2, a heat pump that takes no car"):
        scenario(loadpoints=[BASE["loadpoints"][0], HEATPUMP_LP], vehicles={"ev": {"loadpoints": [1, 2]}})
    with pytest.raises(ValueError, match="heatpump parameters need device: heatpump"):
        scenario(loadpoints=[{"title": "Garage", "heatpump": {"power_w": 2000}}])


async def test_over_http_the_heat_pump_takes_evccs_writes():
    s = merge(BASE, {"loadpoints": [BASE["loadpoints"][0], HEATPUMP_LP]})
    settings = SimSettings(start=local("2024-07-15T20:00:00"), seed=1)
    async with SimServer(settings, scenario=scenario(**s), run_clock=False) as sim, \
            httpx.AsyncClient(base_url=sim.url) as client:
        assert (await client.post("/api/loadpoints/2/mode/now")).json() == "now"
        assert (await client.post("/api/loadpoints/2/limitsoc/60")).json() == 60
        assert (await client.post("/api/loadpoints/2/mintemp/40")).json() == 40
        sim.advance(60)
        lp = (await client.get("/api/state")).json()["loadpoints"][1]
        assert (lp["mode"], lp["limitSoc"], lp["minSoc"], lp["charging"], lp["chargePower"]) == (
            "now", 60, 40, True, 3000.0)
        assert lp["vehicleSoc"] == round(48 + 8750 * 60 / TANK_J_PER_K, 3)
