"""Turn orders at a shared wallbox (neighbourhood.turn_orders, solve._best_orders) and the
LP session the planner re-solves its LPs in (lp.LpSession)."""

from __future__ import annotations

from time import perf_counter

import numpy as np
import pytest

from smartload.planner import PlannerSettings
from smartload.planner import solve as solve_module
from smartload.planner.lp import Relaxation
from smartload.planner.model import PlanModel, build_model
from smartload.planner.neighbourhood import neighbourhood, turn_orders
from smartload.planner.solve import Solution, _best_orders, solve_model
from tests.planner.builders import car, hour, hourly, problem

SETTINGS = PlannerSettings()
# Cheap now and late, dear in between.
PRICES = [0.10, 0.10, 0.40, 0.40, 0.40, 0.40, 0.12, 0.12, 0.12, 0.12]


def _shared() -> tuple[PlanModel, Relaxation]:
    """A plugged in now (leaves at 10 h), B from 2 h (leaves at 6 h, first by departure):
    both need more than the cheap hours in their own stay hold."""
    inputs = problem(hourly(PRICES), [
        car("A", need_kwh=30.0, departure_h=10.0, wallbox=1, charging_now=True, allowed_wallboxes=(1,)),
        car("B", need_kwh=20.0, departure_h=6.0, wallbox=None, allowed_wallboxes=(1,), available_from=hour(2)),
    ])
    model = build_model(inputs, SETTINGS)
    return model, model.program.session().relax(10.0)


def test_every_order_of_few_cars_is_a_candidate_default_first() -> None:
    model, relaxed = _shared()
    orders = turn_orders(model, relaxed)
    assert list(orders) == [0]
    assert sorted(map(tuple, orders[0])) == [(0, 1), (1, 0)]
    # The relaxation charges A in the cheap hours 0-1 before B comes (A's lead), B in
    # hours 2-4, A again in 6-8. With the lead taken out, B then A holds all of it; A
    # then B leaves 8.4 kWh of B's without room (B leaves at 6 h).
    assert orders[0][0] == [1, 0]


def test_plugged_car_keeps_the_slots_before_another_car_can_come() -> None:
    """Whatever the order, A may charge in hours 0-1: B is not there yet, so it swaps nothing."""
    model, relaxed = _shared()
    a_energy = model.pairs[0].energy
    # B then A: A's lead (hours 0-1, and HANDOFF_SLACK more) and its turn after B's cover
    # its whole stay, so that order narrows nothing; A then B closes A's hours 5-9.
    for order, narrows in (([1, 0], False), ([0, 1], True)):
        _, ub, narrowed = neighbourhood(model, relaxed, turns=True, orders={0: order})
        assert narrowed == narrows
        assert ub[a_energy[:2]].min() > 0


def test_best_order_is_the_cheapest_neighbourhood_relaxation() -> None:
    model, relaxed = _shared()
    session = model.program.session()
    session.relax(10.0)
    chosen = _best_orders(model, session, relaxed, perf_counter() + 10.0)
    values = {}
    for order in ([1, 0], [0, 1]):
        lb, ub, _ = neighbourhood(model, relaxed, turns=True, orders={0: order})
        values[tuple(order)] = model.program.solve(10.0, 0.0, relax=True, lb=lb, ub=ub).fun
    assert tuple(chosen[0]) == min(values, key=lambda o: values[o])


def test_turn_orders_take_a_quarter_of_the_time_left_and_leave_the_rest_to_the_milp(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that moves 0.1 s at every look: with 0.3 s left the orders may use 0.075 s,
    so none is tried (before, they ran until 0.02 s were left, and a fleet's 35 shared
    wallboxes took 1.5 of its 2 s); with 10 s left, 2.5 s: both orders are tried."""
    model, relaxed = _shared()
    session = model.program.session()
    session.relax(10.0)
    ticks = iter(range(1_000_000))
    monkeypatch.setattr(solve_module, "perf_counter", lambda: next(ticks) * 0.1)
    assert _best_orders(model, session, relaxed, 0.3) == {}
    looked = next(ticks)
    assert _best_orders(model, session, relaxed, looked * 0.1 + 10.0) == {0: [1, 0]}


def test_session_resolves_after_bound_and_cost_changes_as_a_cold_solve() -> None:
    model = build_model(problem(hourly(PRICES), [car("A", need_kwh=30.0, departure_h=10.0)]), SETTINGS)
    program = model.program
    energy = model.pairs[0].energy
    free_swaps = program.cost * 0.5
    session = program.session(cost=free_swaps)
    first = session.relax(10.0)
    cold = program.relax(10.0, cost=free_swaps)
    assert first.objective == cold.objective
    ub = program.ub.copy()
    ub[energy[:2]] = 0.0  # the cheap hours closed
    hot = session.solve(10.0, program.lb, ub, program.cost)
    reference = program.solve(10.0, 0.0, relax=True, ub=ub)
    assert hot.fun == reference.fun
    assert hot.fun > program.relax(10.0).objective + 0.1
    assert hot.x is not None and np.all(hot.x[energy[:2]] == 0.0)
    again = session.solve(10.0)  # the program's own bounds back, the cost as last set
    assert again.fun == program.relax(10.0).objective


def _one_box(prices: list[float], needs: tuple[float, float, float], departures: tuple[float, float, float],
             c_from: float) -> tuple[PlanModel, Solution, float]:
    """A plugged in and charging, B waiting from the start, C from hour c_from, all at one
    wallbox: the model, its plan and the proven optimum."""
    inputs = problem(hourly(prices), [
        car("A", need_kwh=needs[0], departure_h=departures[0], wallbox=1, charging_now=True, allowed_wallboxes=(1,)),
        car("B", need_kwh=needs[1], departure_h=departures[1], wallbox=None, allowed_wallboxes=(1,)),
        car("C", need_kwh=needs[2], departure_h=departures[2], wallbox=None, allowed_wallboxes=(1,),
            available_from=hour(c_from)),
    ])
    model = build_model(inputs, SETTINGS)
    return model, solve_model(model), float(model.program.solve(20.0, 0.0).fun)


def test_the_plugged_car_charges_first_and_comes_back_for_the_rest() -> None:
    """A, plugged in and charging, has hour 0 alone in the relaxation (its lead) and comes
    back at the cheap end; B and C take the box in between (C leaves at 6 h). One turn per
    car could not plan A, B, C, A: 10.3924 EUR, 0.64 % above the optimum."""
    prices = [0.2, 0.4, 0.3, 0.2, 0.4, 0.1, 0.4, 0.4, 0.3, 0.3, 0.12, 0.12]
    model, solution, optimum = _one_box(prices, (20.0, 20.0, 20.0), (12.0, 12.0, 6.0), 2)
    assert round(solution.objective_eur, 4) == round(optimum, 4) == 10.3261
    a_energy = solution.x[model.pairs[0].energy]
    assert a_energy[0] > 8.0 and a_energy[-1] > 8.0 and a_energy[1:-2].sum() < 1e-6


def test_a_milp_answer_counts_at_the_objective_of_the_columns_returned() -> None:
    """Started from the repaired turns (A short by 1.04 kWh), HiGHS reported the narrow
    MILP's optimum, 2.8002, with the start's columns, which cost 13.0962: taken at its
    word, that answer beat the wide MILP's real 2.8002 and the plan left A short."""
    prices = [0.12, 0.3, 0.2, 0.1, 0.12, 0.2, 0.1, 0.2, 0.4, 0.12, 0.1, 0.3]
    model, solution, optimum = _one_box(prices, (10.0, 10.0, 5.0), (12.0, 6.0, 12.0), 1)
    assert round(solution.objective_eur, 4) == round(optimum, 4) == 2.8002
    assert round(model.program.objective(solution.x), 4) == 2.8002
    assert solution.schedule is not None and solution.x[model.cars[0].shortfall] < 1e-6
