"""The LP dive (planner/dive.py) and how solve_model uses it: proven plans need no MILP,
the others start the neighbourhood MILP from the dive's schedule."""

from __future__ import annotations

from dataclasses import replace
from time import perf_counter

import numpy as np
import pytest

from smartload.planner import PlannerSettings
from smartload.planner import dive as dive_module
from smartload.planner.dive import Dived, dive
from smartload.planner.lp import FloatArray, FrozenProgram, SolveResult
from smartload.planner.model import PlanModel, build_model
from smartload.planner.solve import relative_gap, solve_model
from tests.planner.builders import car, hour, hourly, problem

SETTINGS = PlannerSettings()
# One-hour slots, 11.04 kW at most, 4.14 kW (kWh per hour) at least.
E_MIN = 4.14


def _dived(model: PlanModel, lb: FloatArray | None = None, ub: FloatArray | None = None) -> Dived:
    program = model.program
    session = program.session()
    session.relax(10.0)
    result = dive(model, session, program.lb if lb is None else lb, program.ub if ub is None else ub,
                  perf_counter() + 10.0)
    assert result is not None
    assert program.violation(result.x) == 0.0  # integral and feasible
    return result


def _grid_limited() -> PlanModel:
    """12 kWh in two cheap hours under an 8 kW limit: the relaxation charges 8 and 4 kWh,
    on/off 1 and 0.5 (the limit's flow cover, model.add_limit_cuts: on >= e / 8 where the
    power alone gives e / 11.04; 4 kWh is under the minimum)."""
    inputs = problem(hourly([0.30, 0.10, 0.10, 0.30]), [car("A", need_kwh=12.0, departure_h=4.0)])
    return build_model(inputs, replace(SETTINGS, grid_import_limit_w=8000.0))


def _one_cheap_hour(need_kwh: float) -> PlanModel:
    return build_model(problem(hourly([0.30, 0.10, 0.30, 0.30]), [car("A", need_kwh=need_kwh, departure_h=4.0)]),
                       SETTINGS)


def test_dive_under_a_grid_limit_reaches_the_optimum() -> None:
    model = _grid_limited()
    relaxed = model.program.relax(10.0)
    on, energy = model.pairs[0].on, model.pairs[0].energy
    assert relaxed.x is not None
    np.testing.assert_allclose(relaxed.x[on], [0.0, 1.0, 0.5, 0.0], atol=1e-9)
    result = _dived(model)
    np.testing.assert_array_equal(result.x[on], [0.0, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(result.x[energy], [0.0, 12.0 - E_MIN, E_MIN, 0.0], atol=1e-9)
    assert result.objective == pytest.approx(1.20004014, abs=1e-8)
    assert result.objective == pytest.approx(model.program.solve(10.0, 0.0).fun, abs=1e-8)
    assert result.lps == 2


def test_a_plan_the_dive_proves_needs_no_milp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Within mip_rel_gap of the relaxation's bound, the dived schedule is the answer."""
    model = _grid_limited()

    def no_milp(*args: object, **kwargs: object) -> SolveResult:
        raise AssertionError("a MILP was solved")

    monkeypatch.setattr(FrozenProgram, "solve", no_milp)
    solution = solve_model(model)
    assert solution.status == "optimal"
    assert solution.objective_eur == pytest.approx(1.20004014, abs=1e-8)
    np.testing.assert_allclose(solution.x[model.pairs[0].energy], [0.0, 12.0 - E_MIN, E_MIN, 0.0], atol=1e-9)


def test_a_trickle_goes_on_where_rounding_to_the_nearest_would_leave_the_car_short() -> None:
    """3 kWh in the cheap hour: on/off 0.27, which rounds to off (a car 3 kWh short);
    the dive switches it on at the minimum instead, the optimum."""
    model = _one_cheap_hour(3.0)
    relaxed = model.program.relax(10.0)
    on, energy = model.pairs[0].on, model.pairs[0].energy
    assert on is not None
    assert relaxed.x is not None and relaxed.x[on[1]] == pytest.approx(3.0 / 11.04)
    result = _dived(model)
    np.testing.assert_array_equal(result.x[on], [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(result.x[energy], [0.0, E_MIN, 0.0, 0.0], atol=1e-9)
    shortfall = model.cars[0].shortfall
    assert shortfall is not None and result.x[shortfall] == 0.0
    assert result.objective == pytest.approx(0.41401242, abs=1e-8)
    assert result.objective == pytest.approx(model.program.solve(10.0, 0.0).fun, abs=1e-8)


def test_a_trickle_under_half_the_minimum_goes_on_where_nothing_else_takes_it() -> None:
    """1.5 kWh: switched off, the LP would only move it to a dear hour, and on from there."""
    model = _one_cheap_hour(1.5)
    result = _dived(model)
    np.testing.assert_array_equal(result.x[model.pairs[0].on], [0.0, 1.0, 0.0, 0.0])
    assert result.objective == pytest.approx(0.41401242, abs=1e-8)
    assert result.lps == 2


def test_an_unproven_dive_is_the_milp_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """0.414 EUR against the relaxation's 0.300: not proven, so the narrow MILP runs, from
    the dive's schedule, and stops at it (the relaxation cannot prove it; the MILP's
    own bound can)."""
    model = _one_cheap_hour(3.0)
    dived = _dived(model)
    starts: list[FloatArray | None] = []
    solve = FrozenProgram.solve

    def recording(self: FrozenProgram, *args: object, **kwargs: object) -> SolveResult:
        start = kwargs.get("start")
        starts.append(None if start is None else np.asarray(start))
        return solve(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FrozenProgram, "solve", recording)
    solution = solve_model(model)
    assert len(starts) == 1
    first = starts[0]
    assert first is not None
    np.testing.assert_allclose(first, dived.x, atol=1e-12)
    assert relative_gap(dived.objective, 0.300009) > SETTINGS.mip_rel_gap
    assert solution.objective_eur == pytest.approx(0.41401242, abs=1e-8)
    assert solution.status == "feasible"


def test_two_cars_at_one_wallbox_dive_to_one_car_per_slot() -> None:
    """A plugged in (leaves at 10 h), B from 2 h (leaves at 6 h): 0.06 % above the MILP's
    optimum 11.3586, 0.94 % above the relaxation's bound (so a MILP start)."""
    prices = [0.10, 0.10, 0.40, 0.40, 0.40, 0.40, 0.12, 0.12, 0.12, 0.12]
    inputs = problem(hourly(prices), [
        car("A", need_kwh=30.0, departure_h=10.0, wallbox=1, charging_now=True, allowed_wallboxes=(1,)),
        car("B", need_kwh=20.0, departure_h=6.0, wallbox=None, allowed_wallboxes=(1,), available_from=hour(2)),
    ])
    model = build_model(inputs, SETTINGS)
    result = _dived(model)
    a, b = model.pairs
    assert a.on is not None and b.on is not None
    np.testing.assert_array_equal(result.x[a.on], [1, 1, 0, 0, 0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(result.x[b.on], [1, 1, 0, 0])
    np.testing.assert_allclose(result.x[b.energy], [11.04, 8.96, 0.0, 0.0], atol=1e-9)
    assert result.objective == pytest.approx(11.36581346, abs=1e-7)
    assert all(result.x[cv.shortfall] == 0.0 for cv in model.cars if cv.shortfall is not None)


def test_an_infeasible_round_is_undone_and_its_first_binary_fixed_the_other_way(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Hour 2 closed to energy but its on/off left free: a round that switches it on (with
    hour 1) is infeasible; the dive undoes it, fixes hour 2 off and dives on from there."""
    model = _one_cheap_hour(3.0)
    on = model.pairs[0].on
    assert on is not None
    ub = model.program.ub.copy()
    ub[model.pairs[0].energy[2]] = 0.0
    rounds: list[int] = []
    real_round = dive_module._Dive.round_

    def trap(self: dive_module._Dive, x: FloatArray) -> dive_module._Round:
        rounds.append(len(rounds))
        if len(rounds) > 1:
            return real_round(self, x)
        r = dive_module._Round()
        r.fix(np.array([on[2], on[1]], dtype=np.int64), 1.0)
        return r

    monkeypatch.setattr(dive_module._Dive, "round_", trap)
    result = _dived(model, ub=ub)
    np.testing.assert_array_equal(result.x[on], [0.0, 1.0, 0.0, 0.0])
    assert result.objective == pytest.approx(0.41401242, abs=1e-8)
    # The relaxation, the infeasible round, the round undone with hour 2 off, then hour 1 on.
    assert result.lps == 4
    assert len(rounds) == 2


def test_no_time_no_dive() -> None:
    model = _grid_limited()
    session = model.program.session()
    assert dive(model, session, model.program.lb, model.program.ub, perf_counter() - 1.0) is None


def _picks(charging_now: bool, on: list[float], k: int) -> list[int]:
    """The slots Dive.pick puts on, given the relaxation's on/off values of one car in
    its switch-penalty window (one-hour slots, 0.05 EUR a start)."""
    inputs = problem(hourly([0.20] * len(on)), [car("A", need_kwh=20.0, departure_h=len(on),
                                                    charging_now=charging_now)])
    model = build_model(inputs, replace(SETTINGS, switch_penalty_eur=0.05))
    program = model.program
    state = dive_module._Dive(model, program.session(), program.lb, program.ub, perf_counter() + 10.0)
    (pair,) = state.pairs
    assert pair.window == len(on) and pair.on_before == charging_now
    x = np.zeros(program.cost.size)
    x[pair.on] = on
    at = np.flatnonzero(np.abs(x[pair.on] - np.round(x[pair.on])) > 1e-6)
    ranked = [int(j) for j in np.argsort(-x[pair.on[at]], kind="stable")]
    return [int(at[j]) for j in state.pick(pair, x, at, ranked, k)]


def test_the_dive_extends_a_block_where_a_slightly_fuller_slot_would_start_another() -> None:
    # On in hour 0, then an even trickle (hour 4 a hair fuller, as the LP leaves it): the
    # slot next to the block, which costs no start, rather than the fullest.
    assert _picks(False, [1.0, 0.3, 0.3, 0.3, 0.3001], 1) == [1]
    assert _picks(False, [1.0, 0.3, 0.3, 0.3, 0.3001], 2) == [1, 2]
    # A clearly fuller slot still wins (by more than BLOCK_BONUS).
    assert _picks(False, [1.0, 0.3, 0.3, 0.3, 0.5], 1) == [4]


def test_the_dive_starts_one_block_at_the_earliest_of_equal_slots() -> None:
    # Nothing on yet: the earliest of the (near) equals, then the slots next to it.
    assert _picks(False, [0.24, 0.24, 0.2401, 0.24], 2) == [0, 1]
    # Charging as the plan starts: going on in hour 0 starts nothing.
    assert _picks(True, [0.3, 0.3, 0.3001, 0.3], 1) == [0]
