"""A heat pump at a loadpoint (real evcc 0.313 demo, loadpoint 3) is no car: never a
guest, never assigned a car, never a wallbox in a plan, never a session the actuator
tracks; its draw counts as house load (evcc's homePower leaves it out)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from smartload.domain import SiteState, Snapshot
from smartload.evcc.state import StateParser
from smartload.planner import PlanSlot
from smartload.settings import Settings
from smartload.sinks.desired import desired_settings
from smartload.sinks.house_profile import HouseProfile, house_load_w
from smartload.sinks.sequencer import Sequencer
from smartload.store.requests import RequestStore
from smartload.streams.unplugged import _unplugged_mapper
from tests.fixtures_evcc import AT, body

STATE = "api-state_0.313_demo.json"


def demo() -> SiteState:
    """The body as a poll at the start of its own price forecast."""
    state = StateParser().parse_state(body(STATE), AT)
    assert isinstance(state, SiteState)
    return replace(state, at=state.forecast.grid[0].start)


def test_the_heat_pump_is_a_device_with_a_temperature_and_no_soc():
    pump = demo().loadpoints[2]
    assert (pump.title, pump.is_device, pump.is_guest, pump.identified_vehicle, pump.vehicle_soc_pct) == (
        "Heat pump", True, False, None, None)
    assert pump.temperature_c == 48.1


def test_its_draw_is_house_load_and_it_is_no_wallbox_in_the_plan(db):
    state = demo()
    assert house_load_w(state) == 500 + 3977.654
    settings = Settings(vehicles={"vehicle_1": {"capacity_kwh": 44}, "vehicle_2": {"capacity_kwh": 80}},
                        battery={"enabled": False})
    store = RequestStore(db)
    sequencer = Sequencer(settings, store, HouseProfile(settings.site.tz, 500.0, 0.01))
    sequencer.observe_state(state)
    inputs = sequencer.planner_input(Snapshot(state.at, state, {}, state.forecast), sequencer.requests(state.at), {})
    assert inputs is not None
    assert [w.id for w in inputs.wallboxes] == [1, 2]
    assert sorted(c.wallbox_id for c in inputs.cars) == [1, 2]


def test_no_car_is_assigned_to_the_heat_pump_even_when_the_sequence_expects_one():
    state = demo()
    slot = PlanSlot(state.at, state.at + timedelta(minutes=15), 0.3, 0.08, 0, 0, 0, 0, 0, 0, None)
    intents = desired_settings(state, slot, {}, plugged={"vehicle_1": 1, "vehicle_2": 2}, expected={3: "vehicle_3"},
                               evcc_names={}, boosts=frozenset(), configured_max_a={}, battery=False)
    assert not [key for key in intents if key.startswith("lp3.")]


def test_the_heat_pump_does_not_hold_back_routine_refreshes_of_cars_on_the_road():
    # A loadpoint connected without a named vehicle may be a car evcc is identifying, whose
    # plug-in refresh is near; the heat pump never is.
    observe = _unplugged_mapper({}, ("vehicle_3",), timedelta(hours=1))
    state = demo()
    assert observe(state) == []
    assert [edge.vehicle for edge in observe(replace(state, at=state.at + timedelta(hours=1)))] == ["vehicle_3"]
