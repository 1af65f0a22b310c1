"""Valid rows the relaxation lacks (model.add_surplus_cuts, devices.add_most_slots_on):
each leaves every plan feasible and raises the relaxation's bound towards the optimum."""

from __future__ import annotations

from dataclasses import replace

import pytest

from smartload.planner import PlannerSettings, WallboxInput, make_plan
from smartload.planner.model import build_model

from .builders import car, hourly, problem

# One hour, 2 kW PV, no house load, import 0.30, feed-in 0.08; the car needs 1 kWh and
# charges at least 4.14 kWh (it stops at its limit). Tie-breaks (1e-6 per kWh) aside:
# the plan: 4.14 kWh, 2.14 from the grid: 0.642 EUR.
# Without the surplus row the relaxation takes 1 kWh of PV with the car on 1/11.04 and
# exports the other 1 kWh: -0.08 EUR. With it, import >= e - 2 x on and e >= 4.14 x on:
# on = 1/4.14 leaves the least import, 1 - 2/4.14 = 0.51691 kWh, the PV's 2 kWh less
# the car's 1 kWh exported with it: 0.30 x 0.51691 - 0.08 x 1.51691 = 0.03372 EUR.
ONE_HOUR = problem(hourly([0.30], export=0.08, pv_w=[2000.0]), [car(need_kwh=1.0, departure_h=1.0)])


def test_the_surplus_row_keeps_the_relaxation_from_a_trickle_of_pv_below_the_minimum():
    model = build_model(ONE_HOUR, PlannerSettings())
    relaxed = model.program.relax(10.0)
    assert relaxed.objective == pytest.approx(0.30 * (1 - 2 / 4.14) - 0.08 * (2 - 2 / 4.14), abs=1e-4)
    best = model.program.solve(10.0, 0.0)
    assert best.fun == pytest.approx(0.30 * 2.14, abs=1e-4)
    plan = make_plan(ONE_HOUR, PlannerSettings())
    assert plan.slots[0].cars["A"].power_w == pytest.approx(4140.0, abs=1e-3)


def test_no_more_slots_on_than_the_car_has_room_for_at_its_minimum():
    # 6 kWh into a car that takes at least 4.14 kWh per hour on: one hour on at most.
    # Hour 0 (0.30, 2 kW PV) or hour 1 (0.20): 6 kWh in hour 1 and the PV exported,
    # 1.20 - 0.16 = 1.04 EUR. Without the row the relaxation has the car on in hour 0 at
    # its minimum and on 0.17 in hour 1, which the neighbourhood took as sure: 1.20 EUR.
    inputs = problem(hourly([0.30, 0.20], export=0.08, pv_w=[2000.0, 0.0]), [car(need_kwh=6.0)])
    model = build_model(inputs, PlannerSettings())
    relaxed = model.program.relax(10.0)
    assert relaxed.x is not None
    on = model.pairs[0].on
    assert on is not None
    assert relaxed.x[on].sum() <= 1.0 + 1e-9
    plan = make_plan(inputs, PlannerSettings())
    assert [s.cars["A"].power_w for s in plan.slots] == pytest.approx([0.0, 6000.0], abs=1e-3)
    assert plan.cost_eur == pytest.approx(1.04, abs=1e-6)


def test_the_limit_row_makes_the_relaxation_pay_a_whole_start():
    # One hour at 0.10, a 16 kW limit, two cars at their own wallboxes needing 8 kWh each:
    # A charging as the plan starts, B plugged in but not (its start costs 0.05). The
    # optimum charges both in hour 0: 1.60 + 0.05 EUR, plus the tie-breaks of 16 kWh
    # imported and charged in slot 0 (1e-6 EUR/kWh each: 3.2e-5).
    # Without the flow cover the relaxation has B on 8 / 11.04 = 0.72, so it pays 0.72
    # of the start: 1.63626. With it (lambda = 22.08 - 16, each car's coefficient
    # 11.04 - 6.08 = 4.96), both cars at 8 kWh need both on: the bound is the optimum.
    settings = PlannerSettings(switch_penalty_eur=0.05, grid_import_limit_w=16_000.0)
    inputs = problem(hourly([0.10, 0.20]),
                     [car("A", need_kwh=8.0, wallbox=1, charging_now=True),
                      car("B", need_kwh=8.0, wallbox=2, charging_now=False)],
                     boxes=(WallboxInput(id=1), WallboxInput(id=2)))
    model = build_model(inputs, settings)
    relaxed = model.program.relax(10.0)
    best = model.program.solve(10.0, 0.0)
    assert best.fun == pytest.approx(1.650032, abs=1e-6)
    assert relaxed.objective == pytest.approx(best.fun, abs=1e-6)
    plan = make_plan(inputs, settings)
    assert [plan.slots[0].cars[name].power_w for name in "AB"] == pytest.approx([8000.0, 8000.0], abs=1e-3)
    # In "relaxation" mode (the plan is the relaxation repaired) the row is left out.
    loose = build_model(inputs, replace(settings, mode="relaxation")).program.relax(10.0)
    assert loose.objective == pytest.approx(1.60 + 0.05 * 8.0 / 11.04 + 3.2e-5, abs=1e-6)
