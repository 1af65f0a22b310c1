"""Early deadlines: the energy a driver who leaves early would miss, at its own price."""

from __future__ import annotations

import pytest

from smartload.planner import EarlyDeadline, PlannerSettings, make_plan
from smartload.planner.model import build_model
from smartload.planner.schedule import from_vector, to_vector

from .builders import car, hour, hourly, problem

SETTINGS = PlannerSettings()
# 10 kWh by 03:00; 0.30, 0.30, then 0.10 EUR/kWh: without early deadlines all of it in the third hour.
PRICES = [0.30, 0.30, 0.10]


def plan_with(*deadlines: EarlyDeadline):
    return make_plan(problem(hourly(PRICES), [car(need_kwh=10.0, departure_h=3.0, early_deadlines=deadlines)]),
                     SETTINGS)


def powers(plan) -> list[float]:
    return [s.cars["A"].power_w for s in plan.slots]


def test_without_early_deadlines_the_car_waits_for_the_cheap_hour():
    plan = plan_with()
    assert powers(plan) == pytest.approx([0.0, 0.0, 10_000.0], abs=1e-3)
    assert plan.cost_eur == pytest.approx(1.00, abs=1e-6)


def test_a_deadline_whose_penalty_beats_the_saving_brings_the_energy_forward():
    # By 02:00 at 0.25 EUR per missing kWh: charging at 0.30 before it costs 0.20 more than
    # at 0.10 after it, less than the 0.25 the kWh would cost missing, so all 10 kWh come
    # before 02:00, in the earlier hour by the tie-break.
    plan = plan_with(EarlyDeadline(hour(2), 10.0, 0.25))
    assert sum(powers(plan)[:2]) == pytest.approx(10_000.0, abs=1e-3)
    assert plan.cost_eur == pytest.approx(3.00, abs=1e-6)
    assert plan.cars["A"].shortfall_kwh == pytest.approx(0.0, abs=1e-6)


def test_a_deadline_worth_less_than_the_saving_leaves_the_plan_as_it_was():
    plan = plan_with(EarlyDeadline(hour(2), 10.0, 0.15))
    assert powers(plan) == pytest.approx([0.0, 0.0, 10_000.0], abs=1e-3)
    assert plan.cost_eur == pytest.approx(1.00, abs=1e-6)


def test_a_deadline_inside_a_slot_counts_the_share_of_it_before_the_deadline():
    # By 01:30 at 1 EUR/kWh: the first hour counts whole, the second by half (a kWh there
    # costs the same 0.30 but only half of it is in by 01:30), so all 10 kWh in the first.
    plan = plan_with(EarlyDeadline(hour(1.5), 10.0, 1.0))
    assert powers(plan)[0] == pytest.approx(10_000.0, abs=1e-3)


def test_the_schedule_vector_carries_the_early_shortfall():
    # A schedule that charges only in the cheap hour lacks all 10 kWh at 02:00: to_vector
    # says so, so a MIP start or a repaired plan is priced with the deadline's penalty.
    inputs = problem(hourly(PRICES), [car(need_kwh=10.0, departure_h=3.0,
                                          early_deadlines=(EarlyDeadline(hour(2), 10.0, 0.15),))])
    model = build_model(inputs, SETTINGS)
    x = to_vector(model, from_vector(model, _late_only(model)))
    assert len(model.early) == 1
    assert x[model.early[0].shortfall] == pytest.approx(10.0)


def _late_only(model):
    import numpy as np

    x = np.zeros(model.program.cost.size)
    pv = model.pairs[0]
    x[pv.energy[-1]] = 10.0
    return x
