"""The previous plan as the next plan's start (warm.py): carried into the new slots, made
feasible, and never worse than the re-plan's own answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from smartload.planner import PlannerSettings, make_plan
from smartload.planner.model import build_model
from smartload.planner.schedule import from_vector
from smartload.planner.warm import warm_start
from smartload.sinks.solver import WarmPlanner, contained

from .builders import hour, problem
from .test_planner_fallback import CARS, INPUT, SLOTS, battery

RELAXATION = PlannerSettings(mode="relaxation")  # no MILP: what a solve out of time has


def test_the_plan_carried_onto_its_own_inputs_is_itself():
    plan = make_plan(INPUT, PlannerSettings())
    model = build_model(INPUT, PlannerSettings())
    x = warm_start(model, plan)
    assert x is not None
    assert model.program.violation(x) <= 1e-6
    assert model.program.objective(x) == pytest.approx(plan.objective_eur, abs=1e-6)


def test_a_solve_without_milp_keeps_the_previous_plan_where_it_is_cheaper():
    previous = make_plan(INPUT, PlannerSettings())
    cold = make_plan(INPUT, RELAXATION)
    warm = make_plan(INPUT, RELAXATION, previous)
    assert cold.status == "fallback"
    assert cold.objective_eur > previous.objective_eur + 0.1  # the repaired relaxation is worse here
    assert warm.objective_eur == pytest.approx(previous.objective_eur, abs=1e-6)
    assert warm.status in ("optimal", "feasible")
    assert [s.cars["A"].power_w for s in warm.slots] == pytest.approx([s.cars["A"].power_w for s in previous.slots])


def test_an_hour_later_the_rest_of_the_plan_is_the_start():
    previous = make_plan(INPUT, PlannerSettings())
    first = previous.slots[0]
    cars = tuple(replace(c, soc_pct=first.cars[c.name].soc_pct) for c in CARS)
    later = problem(SLOTS[1:], cars, battery(soc_pct=first.battery_soc_pct))
    model = build_model(later, PlannerSettings())
    x = warm_start(model, previous)
    assert x is not None
    assert model.program.violation(x) <= 1e-6
    carried = from_vector(model, x).car_kwh  # one-hour slots: kWh = kW
    for t, slot in enumerate(previous.slots[1:]):
        for c, car in enumerate(cars):
            assert carried[c, 0, t] == pytest.approx(slot.cars[car.name].power_w / 1000.0, abs=1e-6)


def test_no_common_time_or_no_plan_gives_no_start():
    previous = make_plan(INPUT, PlannerSettings())
    model = build_model(INPUT, PlannerSettings())
    assert warm_start(model, None) is None
    moved = problem(tuple(replace(s, start=s.start + (hour(5) - hour(0)), end=s.end + (hour(5) - hour(0)))
                          for s in SLOTS), CARS, battery(soc_pct=50.0))
    assert warm_start(build_model(moved, PlannerSettings()), previous) is None


def test_the_live_planner_starts_each_plan_from_the_last():
    planner = WarmPlanner()
    first = planner(INPUT, PlannerSettings())
    second = planner(INPUT, RELAXATION)
    assert second.objective_eur == pytest.approx(first.objective_eur, abs=1e-6)


def test_a_plan_that_fails_from_its_warm_start_is_made_cold_and_the_start_forgotten():
    calls: list[bool] = []

    def solve(inputs, settings, previous):
        calls.append(previous is not None)
        if previous is not None and len(calls) == 2:
            raise ValueError("the carried-over plan does not fit")
        return make_plan(inputs, settings, previous)

    planner = WarmPlanner(solve)
    first = planner(INPUT, PlannerSettings())
    second = planner(INPUT, PlannerSettings())  # warm: fails, then cold
    planner(INPUT, PlannerSettings())  # warm again, from the cold plan
    assert calls == [False, True, False, True]
    assert second.objective_eur == pytest.approx(first.objective_eur, abs=1e-6)


def test_one_car_probes_plan_cold_and_do_not_become_the_next_start():
    seen: list[tuple[tuple[str, ...], bool]] = []

    def solve(inputs, settings, previous):
        seen.append((tuple(c.name for c in inputs.cars), previous is not None))
        if len(inputs.cars) > 1:
            raise ValueError("one bad car")
        return make_plan(inputs, settings, previous)

    planner = WarmPlanner(solve)
    planner(replace(INPUT, cars=INPUT.cars[:1]), PlannerSettings())
    cold: list[tuple[str, ...]] = []

    def probe(inputs, settings):
        cold.append(tuple(c.name for c in inputs.cars))
        return make_plan(inputs, settings)

    outcome = contained(planner, INPUT, PlannerSettings(), probe)
    names = tuple(c.name for c in INPUT.cars)
    assert cold == [(n,) for n in names]  # each car alone, through the cold planner
    assert outcome.plan is None and outcome.dropped == ()
    # Only the full plans went through the warm planner: warm then cold, then (the start
    # forgotten) cold once more without the cars that failed alone (none here).
    assert seen[1:] == [(names, True), (names, False), (names, False)]


def test_the_wide_neighbourhood_is_judged_by_the_plan_in_force_too():
    """The narrow neighbourhood's answer 10 % above the bound calls for the wide one; not
    where the plan in force (the same schedule, at its real cost, within WIDEN_GAP of the
    bound) is known: the wide MILP would only find it again."""
    import numpy as np

    from smartload.planner.solve import WIDEN_GAP, _Best, _widen, solve_model

    from .test_slot_assignment import _crowded

    model, relaxed = _crowded()
    assert relaxed.x is not None
    solution = solve_model(model)
    cost = solution.objective_eur
    bound = cost * (1.0 - WIDEN_GAP / 2)
    narrow = _Best(solution.x, cost * 1.1, False, np.inf)
    warm = _Best(solution.x, cost, False, np.inf)
    assert _widen(model, relaxed.x, narrow, None, bound)
    assert not _widen(model, relaxed.x, narrow, warm, bound)
    assert _widen(model, relaxed.x, warm, narrow, cost * 0.9)  # a plan in force far above the bound: widen
