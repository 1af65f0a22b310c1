"""desired_settings: what the current plan slot asks of each loadpoint."""

from __future__ import annotations

from datetime import timedelta

from smartload.domain import LoadpointState
from smartload.planner import CarSlot, PlanSlot
from smartload.requests import ChargeRequest
from smartload.sinks.desired import desired_settings
from tests.builders import at, state


def _slot(**cars: CarSlot) -> PlanSlot:
    return PlanSlot(start=at(0), end=at(900), import_eur_per_kwh=0.17, export_eur_per_kwh=0.08, pv_w=0.0,
                    house_w=500.0, grid_import_w=11_500.0, grid_export_w=0.0, battery_charge_w=0.0,
                    battery_discharge_w=0.0, battery_soc_pct=None, cars=cars)


def _desired(slot: PlanSlot, requests: dict[str, ChargeRequest], unannounced: frozenset[str] = frozenset()
             ) -> dict[str, str]:
    lp1 = LoadpointState(id=1, connected=True, vehicle_name="zoe", phases_active=3, min_current_a=6.0,
                         max_current_a=16.0)
    intents = desired_settings(state(0, lp1, vehicles=("zoe", "ioniq")), slot, requests, plugged={"zoe": 1},
                               expected={}, evcc_names={}, boosts=frozenset(), configured_max_a={}, battery=False,
                               unannounced=unannounced)
    return {key: intent.value for key, intent in intents.items()}


ZOE = ChargeRequest("zoe", at(0) + timedelta(hours=8), target_soc_pct=90)
# The slot gives the wallbox to ioniq at 6.9 kW (10 A on three phases); zoe is not charged.
IONIQ_HERE = _slot(zoe=CarSlot(None, 0.0, 40.0, 0.0), ioniq=CarSlot(1, 6_900.0, 38.0, 1.55))


def test_the_plugged_car_charges_in_the_slot_of_a_car_not_yet_plugged_in():
    assert _desired(IONIQ_HERE, {"zoe": ZOE}) == {"lp1.mode": "now", "lp1.maxcurrent": "10", "lp1.limitsoc": "90"}


def test_without_a_request_the_plugged_car_does_not_stand_in():
    assert _desired(IONIQ_HERE, {}) == {"lp1.mode": "off"}


def test_a_fleet_car_without_a_request_charges_at_full_power_until_its_driver_gives_one():
    # planning.charge_until_announced: the planning sink names zoe unannounced (plugged, no request).
    assert _desired(IONIQ_HERE, {}, frozenset({"zoe"})) == {"lp1.mode": "now", "lp1.maxcurrent": "16"}
    # Once the driver gives a departure, the plan decides again (here: ioniq's slot, zoe stands in).
    assert _desired(IONIQ_HERE, {"zoe": ZOE}, frozenset({"zoe"})) == {
        "lp1.mode": "now", "lp1.maxcurrent": "10", "lp1.limitsoc": "90"}


def test_a_slot_for_a_car_at_another_wallbox_leaves_the_plugged_car_off():
    elsewhere = _slot(zoe=CarSlot(None, 0.0, 40.0, 0.0), ioniq=CarSlot(2, 6_900.0, 38.0, 1.55))
    assert _desired(elsewhere, {"zoe": ZOE}) == {"lp1.mode": "off", "lp1.limitsoc": "90"}


def test_the_plugged_cars_own_slot_wins():
    own = _slot(zoe=CarSlot(1, 4_140.0, 40.0, 1.0))
    assert _desired(own, {"zoe": ZOE}) == {"lp1.mode": "now", "lp1.maxcurrent": "6", "lp1.limitsoc": "90"}


def test_a_battery_evcc_cannot_control_gets_no_battery_mode():
    from dataclasses import replace

    from smartload.domain import BatteryState

    lp1 = LoadpointState(id=1, connected=True, vehicle_name="zoe", phases_active=3)
    site = state(0, lp1, vehicles=("zoe",))
    slot = _slot(zoe=CarSlot(1, 4_140.0, 40.0, 1.0))
    settings = {"requests": {}, "plugged": {"zoe": 1}, "expected": {}, "evcc_names": {}, "boosts": frozenset(),
                "configured_max_a": {}, "battery": True}
    controllable = replace(site, battery=BatteryState(power_w=0, soc_pct=50, capacity_kwh=10, controllable=True))
    assert "batterymode" in desired_settings(controllable, slot, **settings)
    cannot = replace(site, battery=BatteryState(power_w=0, soc_pct=50, capacity_kwh=10, controllable=False))
    assert "batterymode" not in desired_settings(cannot, slot, **settings)
