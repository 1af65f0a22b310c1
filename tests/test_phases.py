"""LoadpointState.phases: the one phase rule of the planner's wallboxes and the currents
the actuator writes. evcc's active phases while a loadpoint charges, else its configured ones."""

from __future__ import annotations

import pytest

from smartload.domain import LoadpointState
from smartload.planner import CarSlot, PlanSlot
from smartload.sinks.desired import desired_settings
from smartload.sinks.sequencer import Sequencer
from tests.builders import at, state


def _lp(charging: bool, active: int | None, configured: int | None) -> LoadpointState:
    return LoadpointState(id=1, connected=True, charging=charging, vehicle_name="zoe", phases_active=active,
                          phases_configured=configured, min_current_a=6.0, max_current_a=16.0)


@pytest.mark.parametrize(("charging", "active", "configured", "phases"), [
    (True, 1, 3, 1),  # a car that charges on one phase of a three-phase wallbox
    (False, 1, 3, 3),  # the next session may use all three
    (True, 3, 3, 3),
    (False, 1, 1, 1),
    (True, 3, 0, 3),  # configured 0: evcc switches phases automatically
    (False, 3, 0, 3),
    (False, 1, 0, 1),
    (True, None, 1, 1),
    (False, 3, None, 3),
    (True, None, None, 3),
    (False, 0, 4, 3),
])
def test_active_phases_while_charging_configured_ones_otherwise(charging: bool, active: int | None,
                                                               configured: int | None, phases: int) -> None:
    assert _lp(charging, active, configured).phases == phases


def _maxcurrent(lp1: LoadpointState) -> str:
    slot = PlanSlot(start=at(0), end=at(900), import_eur_per_kwh=0.17, export_eur_per_kwh=0.08, pv_w=0.0,
                    house_w=500.0, grid_import_w=7_400.0, grid_export_w=0.0, battery_charge_w=0.0,
                    battery_discharge_w=0.0, battery_soc_pct=None, cars={"zoe": CarSlot(1, 6_900.0, 40.0, 1.0)})
    intents = desired_settings(state(0, lp1, vehicles=("zoe",)), slot, {}, plugged={"zoe": 1}, expected={},
                               evcc_names={}, boosts=frozenset(), configured_max_a={}, battery=False)
    return intents["lp1.maxcurrent"].value


def test_planner_and_actuator_count_the_same_phases() -> None:
    for charging, phases, amps in ((True, 1, "16"), (False, 3, "10")):  # 6.9 kW: 30 A capped at 16, or 10 A
        lp1 = _lp(charging, active=1, configured=3)
        (box,) = Sequencer._wallboxes(state(0, lp1, vehicles=("zoe",)), {})
        assert box.phases == phases
        assert _maxcurrent(lp1) == amps
