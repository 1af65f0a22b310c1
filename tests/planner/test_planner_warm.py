"""The previous plan as the next plan's start (warm.py): carried into the new slots, made
feasible, and never worse than the re-plan's own answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from smartload.planner import PlannerInput, PlannerSettings, make_plan
from smartload.planner import solve as solve_module
from smartload.planner import warm as warm_module
from smartload.planner.model import build_model
from smartload.planner.schedule import from_vector
from smartload.planner.warm import KEEP_TOL_EUR, REFRESH_S, Searched, still_settled, warm_start
from smartload.sinks.solver import WarmPlanner, contained

from .builders import car, hour, hourly, problem
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
        for c, vehicle in enumerate(cars):
            assert carried[c, 0, t] == pytest.approx(slot.cars[vehicle.name].power_w / 1000.0, abs=1e-6)


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


SHARED_PRICES = [0.30, 0.12, 0.25, 0.10, 0.28, 0.11, 0.30, 0.30]


def _three_at_one_wallbox(prices: list[float]) -> PlannerInput:
    """Three cars at one wallbox: the relaxation's bound lies 0.58 EUR below the best
    plan, so no plan is proven within the gap and only the search's word settles it."""
    cars = [car(name, need_kwh=need, departure_h=8.0, wallbox=None, allowed_wallboxes=(1,))
            for name, need in (("A", 9.0), ("B", 14.0), ("C", 6.0))]
    return problem(hourly(prices), cars)


def _count_searches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    guided = solve_module._guided

    def counted(*args, **kwargs):
        calls.append(1)
        return guided(*args, **kwargs)

    monkeypatch.setattr(solve_module, "_guided", counted)
    return calls


def test_a_plan_its_search_settled_is_kept_with_no_search_while_nothing_changed(monkeypatch: pytest.MonkeyPatch):
    inputs = _three_at_one_wallbox(SHARED_PRICES)
    first = make_plan(inputs, PlannerSettings())
    assert first.status == "feasible"
    assert first.objective_eur == pytest.approx(4.0311, abs=1e-4)
    assert first.search_gap_eur == pytest.approx(0.5822, abs=1e-4)  # above the relaxation's bound
    searches = _count_searches(monkeypatch)
    again = make_plan(inputs, PlannerSettings(), first)
    assert searches == []
    assert again.status == "feasible"
    assert again.objective_eur == pytest.approx(first.objective_eur, abs=1e-6)
    assert again.search_gap_eur == first.search_gap_eur  # the search's word, carried on as it was
    assert again.searched_at == first.searched_at == inputs.now
    for old, new in zip(first.slots, again.slots, strict=True):
        for name in ("A", "B", "C"):
            assert new.cars[name].power_w == pytest.approx(old.cars[name].power_w, abs=1e-3)


def test_a_carried_plan_that_lost_ground_to_the_bound_is_searched_again(monkeypatch: pytest.MonkeyPatch):
    first = make_plan(_three_at_one_wallbox(SHARED_PRICES), PlannerSettings())
    moved = _three_at_one_wallbox(SHARED_PRICES[::-1])  # the cheap hours are now the dear ones
    cold = make_plan(moved, PlannerSettings())
    searches = _count_searches(monkeypatch)
    again = make_plan(moved, PlannerSettings(), first)
    assert searches == [1]
    assert again.objective_eur == pytest.approx(cold.objective_eur, abs=1e-6)
    assert again.search_gap_eur == pytest.approx(cold.search_gap_eur, abs=1e-6)


def test_a_search_cut_short_does_not_settle_the_next_plan(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(warm_module, "SETTLED_SHARE", 0.0)  # as if every search ran out of time
    inputs = _three_at_one_wallbox(SHARED_PRICES)
    first = make_plan(inputs, PlannerSettings())
    assert first.search_gap_eur is None
    searches = _count_searches(monkeypatch)
    make_plan(inputs, PlannerSettings(), first)
    assert searches == [1]


def test_a_plan_far_above_its_bound_is_searched_again_once_its_search_is_half_an_hour_old(
        monkeypatch: pytest.MonkeyPatch):
    inputs = _three_at_one_wallbox(SHARED_PRICES)
    first = make_plan(inputs, PlannerSettings())
    assert first.search_gap_eur is not None and first.search_gap_eur > 0.1 * first.objective_eur
    assert first.searched_at is not None
    searches = _count_searches(monkeypatch)
    make_plan(inputs, PlannerSettings(), replace(first, searched_at=first.searched_at - timedelta(seconds=REFRESH_S)))
    assert searches == [1]
    assert REFRESH_S == 1800.0
    younger = first.searched_at - timedelta(seconds=REFRESH_S - 60.0)
    again = make_plan(inputs, PlannerSettings(), replace(first, searched_at=younger))
    assert searches == [1]
    assert again.searched_at == younger


def test_a_kept_plan_may_lie_keep_tol_further_above_the_bound_and_no_more():
    young = Searched(0.25, 0.0)
    assert still_settled(0.25 + KEEP_TOL_EUR, 0.0, young)
    assert not still_settled(0.25 + 2 * KEEP_TOL_EUR, 0.0, young)
    assert not still_settled(0.0, 0.0, None)


def test_only_a_search_within_one_percent_of_its_bound_is_taken_at_its_word_for_longer_than_refresh_s():
    assert still_settled(10.0, 9.95, Searched(0.05, 10 * REFRESH_S))  # 0.5 % of the objective
    assert not still_settled(10.0, 9.8, Searched(0.2, REFRESH_S))  # 2 %: half an hour old
    assert still_settled(10.0, 9.8, Searched(0.2, REFRESH_S - 1.0))


def test_the_live_planner_re_plans_an_unchanged_shared_wallbox_with_no_search(monkeypatch: pytest.MonkeyPatch):
    planner = WarmPlanner()
    inputs = _three_at_one_wallbox(SHARED_PRICES)
    first = planner(inputs, PlannerSettings())
    searches = _count_searches(monkeypatch)
    second = planner(inputs, PlannerSettings())
    third = planner(inputs, PlannerSettings())
    assert searches == []
    assert second.objective_eur == pytest.approx(first.objective_eur, abs=1e-6)
    assert third.searched_at == first.searched_at
