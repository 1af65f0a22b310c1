"""Input checks and the facts derived from inputs (minimum power, what a car needs)."""

from __future__ import annotations

from datetime import datetime

import pytest

from smartload.planner import CarInput, PlannerInput, PlannerSettings, WallboxInput
from smartload.planner.cars import car_needs, min_power_w

from .builders import BOX, car, hour, hourly, problem


@pytest.mark.parametrize(("car_max_w", "expected_w"), [
    (3680.0, 1380.0),    # 16 A on one phase: a one-phase car, 6 A x 230 V
    (7360.0, 2760.0),    # two phases
    (11_040.0, 4140.0),  # all three
    (22_080.0, 4140.0),  # more than the wallbox gives: still its three phases
    (1000.0, 1000.0),    # a car that cannot reach 6 A: its own maximum
])
def test_minimum_power_follows_the_phases_the_car_uses(car_max_w, expected_w):
    assert min_power_w(car(max_charge_w=car_max_w), BOX) == pytest.approx(expected_w)


def test_need_required_and_cap():
    inputs = problem(hourly([0.3, 0.3]), [
        car("A", need_kwh=5.0, departure_h=2.0),
        car("B", need_kwh=20.0, departure_h=3.0, wallbox=None, allowed_wallboxes=(1,)),
        car("C", need_kwh=0.5, departure_h=None, wallbox=None, allowed_wallboxes=(1,)),
    ])
    a, b, c = car_needs(inputs, PlannerSettings())
    assert (a.need_kwh, a.required_kwh, a.cap_kwh, a.departs_in_horizon) == (5.0, 5.0, 5.0, True)
    # B leaves 1 h after the horizon: 11.04 kWh can still come then, 8.96 must come now.
    assert b.required_kwh == pytest.approx(20.0 - 11.04)
    assert not b.departs_in_horizon
    # C has no deadline; its 0.5 kWh is below one hour at 4,140 W, so the cap allows that.
    assert (c.required_kwh, c.cap_kwh) == (0.0, pytest.approx(4.14))


def test_a_car_without_soc_gives_its_energy():
    no_soc = CarInput(name="E", capacity_kwh=60.0, energy_needed_kwh=12.5, departure=hour(2))
    assert no_soc.need_kwh == 12.5
    with pytest.raises(ValueError, match="soc_pct or energy_needed_kwh"):
        CarInput(name="F", capacity_kwh=60.0)


def test_inconsistent_inputs_are_refused():
    slots = hourly([0.3])
    with pytest.raises(ValueError, match="unknown wallbox"):
        PlannerInput(hour(0), slots, None, (BOX,), (car(wallbox=2),))
    with pytest.raises(ValueError, match="same wallbox"):
        PlannerInput(hour(0), slots, None, (BOX,), (car("A"), car("B")))
    with pytest.raises(ValueError, match="timezone-aware"):
        PlannerInput(datetime(2024, 1, 1), slots, None, (BOX,), ())
    gap = (slots[0], hourly([0.3, 0.3, 0.3])[2])  # 00:00-01:00, then 02:00-03:00
    with pytest.raises(ValueError, match="contiguous"):
        PlannerInput(hour(0), gap, None, (BOX,), ())


def test_wallbox_limits():
    box = WallboxInput(id=3, phases=1, max_current_a=32.0)
    assert (box.min_power_w, box.max_power_w) == (1380.0, 7360.0)
    with pytest.raises(ValueError):
        WallboxInput(id=4, phases=4)
