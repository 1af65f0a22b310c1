"""A car on evcc's offline template: evcc shows vehicleSoc 0 however full it is, the car still
charges, SoC plans do not apply and limitEnergy does (as for a guest); its cloud may not exist."""

from __future__ import annotations

import httpx
import pytest

from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer
from smartload.sim.site import Site
from smartload.sim.state_view import build_state

from .helpers import FULL_W, local, run, scenario, site, write

OFFLINE = {"ev": {"template": "offline"}}


def lp_state(s: Site) -> dict:
    return build_state(s, "0.315.0")["loadpoints"][0]


def test_evcc_shows_soc_zero_while_the_car_charges():
    s = site(vehicles=OFFLINE)
    s.loadpoint(1).set_mode("now")
    run(s, 600)
    ev = s.vehicle("ev")
    assert ev.soc_pct == pytest.approx(40 + FULL_W * 600 / 3600 * 0.9 / 50000 * 100)
    state = lp_state(s)
    expected = {
        "vehicleName": "ev", "vehicleTitle": "Test EV", "vehicleSoc": 0.0, "vehicleRange": 0, "vehicleOdometer": 0,
        "vehicleLimitSoc": 0, "charging": True, "chargePower": FULL_W, "chargedEnergy": 1840.0,
        # evcc's estimator counts from 0 % with its 85 % efficiency: 100 % of 50 kWh / 0.85.
        "chargeRemainingEnergy": 58823.529, "effectiveLimitSoc": 100,
    }
    assert {key: state[key] for key in expected} == expected
    assert build_state(s, "0.315.0")["vehicles"]["ev"]["features"] == ["Offline"]
    api = site()
    assert build_state(api, "0.315.0")["vehicles"]["ev"]["features"] == []


def test_limit_energy_stops_an_offline_car_or_a_guest_but_not_a_car_with_a_soc():
    for vehicles, stops in ((OFFLINE, True), ({"ev": {"identifiable": False}}, True), ({}, False)):
        s = site(vehicles=vehicles, detection_timeout_s=0)
        lp = s.loadpoint(1)
        lp.set_mode("now")
        assert write(s, "POST", "/api/loadpoints/1/limitenergy/1") == (200, 1.0)
        # 1 kWh at 11.04 kW takes 326 s.
        run(s, 330)
        assert lp.session_energy_wh == pytest.approx(FULL_W * 330 / 3600)
        run(s, 10)
        assert lp.enabled is not stops, vehicles
        assert lp.limit_energy_reached(s.vehicles) is stops


def test_soc_plans_do_not_apply_to_an_offline_car():
    s = site("2024-07-15T14:00:00", vehicles=OFFLINE)
    lp = s.loadpoint(1)
    assert write(s, "POST", "/api/vehicles/ev/plan/soc/80/2024-07-16T05:00:00Z")[0] == 200
    for _ in range(15 * 6):
        run(s, 600)
        assert not lp.plan_active and lp.charge_power_w == 0.0
    state = build_state(s, "0.315.0")
    loadpoint = state["loadpoints"][0]
    assert (loadpoint["effectivePlanId"], loadpoint["effectivePlanTime"], loadpoint["planTime"],
            loadpoint["effectivePlanSoc"], loadpoint["plan"]) == (0, None, None, 80, None)
    assert state["vehicles"]["ev"]["plan"] == {"soc": 80, "time": "2024-07-16T05:00:00Z"}


def test_min_soc_of_an_offline_car_counts_the_energy_charged():
    s = site(vehicles={"ev": {"template": "offline", "min_soc_pct": 10}})
    run(s, 10)
    assert lp_state(s)["minSocNotReached"] and s.loadpoint(1).fast_charging
    # 10 % of 50 kWh through evcc's 85 %: 5882.4 Wh, 1918 s at 11.04 kW.
    run(s, 1910)
    assert s.loadpoint(1).charge_power_w == FULL_W
    run(s, 10)
    assert not lp_state(s)["minSocNotReached"] and s.loadpoint(1).charge_power_w == 0.0


def test_evcc_never_reads_an_offline_cars_soc():
    s = site(vehicles={"ev": {"template": "offline", "detection_s": 30, "start": {"evcc_soc_pct": None}}},
             evcc_reads_soc_on_identify=True)
    run(s, 40)
    assert (lp_state(s)["vehicleName"], s.vehicle("ev").evcc_soc_pct) == ("ev", None)
    s.assign_vehicle(1, "ev")
    s.loadpoint(1).set_mode("now")
    run(s, 60)
    assert (lp_state(s)["vehicleSoc"], s.vehicle("ev").evcc_soc_pct) == (0.0, None)


async def test_its_cloud_may_not_exist():
    vehicles = {"ev": {"template": "offline", "soc_source": "none"},
                "ev2": {"title": "Second EV", "capacity_kwh": 40, "template": "offline",
                        "start": {"state": "home", "soc_pct": 63}}}
    settings = SimSettings(start=local("2024-07-15T20:00:00"), seed=1)
    async with SimServer(settings, scenario=scenario(vehicles=vehicles), run_clock=False,
                         cloud_sleep=_no_wait) as sim, httpx.AsyncClient(base_url=sim.url) as client:
        none = await client.get("/cloud/ev/soc")
        assert (none.status_code, none.json()) == (404, {"error": "ev has no cloud"})
        cloud = await client.get("/cloud/ev2/soc")
        assert (cloud.status_code, cloud.json()) == (200, {"soc": 63.0, "measured_at": "2024-07-15T18:00:00Z"})
        state = (await client.get("/api/state")).json()
        assert (state["loadpoints"][0]["vehicleSoc"], state["vehicles"]["ev2"]["features"]) == (0.0, ["Offline"])


async def _no_wait(seconds: float) -> None:
    return None
