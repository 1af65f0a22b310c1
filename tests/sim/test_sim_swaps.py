"""Instant swaps at a shared wallbox and what evcc resets on disconnect, connect and
identification (core/loadpoint.go evVehicleDisconnectHandler / evVehicleConnectHandler,
core/loadpoint_vehicle.go setActiveVehicle), including the scenario options that opt in
to evcc behaviour the shipped scenarios leave out."""

from __future__ import annotations

import httpx
import pytest

from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer
from smartload.sim.site import Site
from smartload.sim.state_view import build_state

from .helpers import MIN_W, local, run, scenario, site, write

SECOND = {"title": "Second EV", "capacity_kwh": 40, "detection_s": 30, "plug_delay_s": 60,
          "start": {"state": "home", "soc_pct": 50}}


def lp_state(s: Site) -> dict:
    return build_state(s, "0.315.0")["loadpoints"][0]


def two_cars(**extra) -> Site:
    return site(vehicles={"ev": {"limit_soc_pct": 45}, "ev2": SECOND}, swap_delay_s=300, **extra)


async def test_a_swap_with_no_gap_is_never_seen_empty_over_http():
    """swap_gap_s 0: polls every 10 s see the first car, then the next one detecting, never an
    empty wallbox; everything evcc resets is reset in the same poll."""
    settings = SimSettings(start=local("2024-07-15T20:00:00"), seed=1)
    waiting = {**SECOND, "start": {"state": "home", "soc_pct": 50, "plug_in_after_s": 10}}
    async with SimServer(settings, scenario=scenario(vehicles={"ev": {"limit_soc_pct": 45}, "ev2": waiting},
                                                     swap_delay_s=300), run_clock=False) as sim, \
            httpx.AsyncClient(base_url=sim.url) as client:
        for path, answer in (("mode/now", "now"), ("limitenergy/20", 20.0), ("smartcostlimit/0.2", 0.2),
                             ("maxcurrent/14", 14.0)):
            assert (await client.post(f"/api/loadpoints/1/{path}")).json() == answer
        polls = []
        for _ in range(200):
            sim.advance(10)
            polls.append((await client.get("/api/state")).json()["loadpoints"][0])
        assert all(p["connected"] for p in polls)
        names = [p["vehicleName"] for p in polls]
        first_new = names.index("")
        before, after = polls[first_new - 1], polls[first_new]
        assert (before["vehicleName"], before["limitEnergy"], before["chargedEnergy"] > 0) == ("ev", 20.0, True)
        reset = {key: after[key] for key in ("vehicleDetectionActive", "vehicleSoc", "limitSoc", "limitEnergy",
                                             "chargedEnergy", "sessionEnergy", "connectedDuration", "planActive")}
        assert reset == {"vehicleDetectionActive": True, "vehicleSoc": 0.0, "limitSoc": 0, "limitEnergy": 0.0,
                         "chargedEnergy": 0.0, "sessionEnergy": 0.0, "connectedDuration": 0, "planActive": False}
        # Loadpoint settings stay: the mode (no default mode configured), smart cost, currents.
        kept = (after["mode"], after["smartCostLimit"], after["maxCurrent"], after["minCurrent"])
        assert kept == ("now", 0.2, 14.0, 6.0)
        assert names[first_new:first_new + 4] == ["", "", "", "ev2"]


def test_unplug_resets_the_session_limits_and_keeps_the_loadpoint_settings():
    s = two_cars()
    lp = s.loadpoint(1)
    for path in ("mode/now", "limitsoc/80", "limitenergy/9", "smartcostlimit/0.3", "mincurrent/8"):
        assert write(s, "POST", f"/api/loadpoints/1/{path}")[0] == 200
    run(s, 60)
    s.hand_over(1, "ev2")
    assert (lp.limit_soc, lp.limit_energy_kwh, lp.session_energy_wh, lp.vehicle_name, lp.detection_active) == (
        0, 0.0, 0.0, "", True)
    assert (lp.mode, lp.smart_cost_limit, lp.min_current) == ("now", 0.3, 8.0)
    assert s.vehicle("ev2").loadpoint_id == 1 and s.vehicle("ev").loadpoint_id is None


def test_a_default_mode_returns_at_every_unplug():
    s = two_cars(loadpoints=[{"title": "Garage", "mode": "pv", "default_mode": "pv"}])
    lp = s.loadpoint(1)
    lp.set_mode("now")
    run(s, 10)
    s.hand_over(1, "ev2")
    assert lp.mode == "pv"
    lp.set_mode("off")
    s.unplug("ev2")
    assert lp.mode == "pv"


def test_a_vehicles_own_mode_applies_on_identification_and_selection(sim_log):
    s = site(vehicles={"ev": {"mode": "now", "detection_s": 30}})
    lp = s.loadpoint(1)
    run(s, 20)
    assert lp.mode == "pv"
    run(s, 20)
    assert (lp.vehicle_name, lp.mode) == ("ev", "now")
    assert any("loadpoint 1 takes ev's mode now" in m for m in sim_log)
    lp.set_mode("off")
    assert write(s, "POST", "/api/loadpoints/1/vehicle/ev") == (200, {"vehicle": "Test EV"})
    assert lp.mode == "now"


@pytest.mark.parametrize(("elapsed", "charging_after_s"), [(True, 10), (False, 70)])
def test_evcc_elapses_the_pv_timer_on_connect_when_the_scenario_opts_in(elapsed, charging_after_s):
    s = site(pv_w=6000, vehicles={"ev": {"start": {"state": "home", "plug_in_after_s": 0}}},
             evcc_pv_timer_elapsed_on_connect=elapsed)
    lp = s.loadpoint(1)
    run(s, charging_after_s - 10)
    assert lp.charge_power_w == 0.0
    run(s, 10)
    assert lp.charge_power_w == pytest.approx(MIN_W)


def test_evcc_misses_an_instant_swap_when_its_charger_reports_no_connection_time(sim_log):
    s = two_cars(evcc_misses_instant_swaps=True)
    lp = s.loadpoint(1)
    lp.set_mode("now")
    assert write(s, "POST", "/api/loadpoints/1/limitsoc/80")[0] == 200
    run(s, 60)
    charged = lp.session_energy_wh
    s.hand_over(1, "ev2")
    assert lp.vehicle.name == "ev2"
    assert (s.vehicle("ev2").loadpoint_id, s.vehicle("ev").loadpoint_id) == (1, None)
    state = lp_state(s)
    # evcc saw nothing: same session, same limits, the old car still identified.
    assert (state["vehicleName"], state["vehicleDetectionActive"], state["limitSoc"], state["connectedDuration"]) == (
        "ev", False, 80, 60)
    assert state["chargedEnergy"] == pytest.approx(charged, abs=1e-3)
    run(s, 60)
    # ev2 charges (11 kW, 40 kWh, 50 %) while evcc shows ev's SoC of its last charge.
    assert s.vehicle("ev2").soc_pct == pytest.approx(50 + 11000 * 60 / 3600 * 0.9 / 40000 * 100)
    assert lp_state(s)["vehicleSoc"] == pytest.approx(s.vehicle("ev").soc_pct, abs=1e-3)
    assert any("between two evcc cycles: ev out, ev2 in; evcc still shows ev" in m for m in sim_log)
    seen = two_cars()
    seen.hand_over(1, "ev2")
    assert (lp_state(seen)["vehicleDetectionActive"], lp_state(seen)["vehicleName"]) == (True, "")
