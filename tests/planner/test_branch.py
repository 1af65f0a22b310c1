"""branch.py's own branch and bound for neighbourhoods with few binaries, and how
solve_model uses it at a shared wallbox instead of HiGHS's MILP."""

from __future__ import annotations

from time import perf_counter
from typing import Any

import numpy as np
import pytest

from smartload.planner import PlannerSettings
from smartload.planner import branch as branch_module
from smartload.planner import solve as solve_module
from smartload.planner.branch import branch_and_bound, free_binaries
from smartload.planner.lp import LIMIT, OPTIMAL, FloatArray, FrozenProgram, SolveResult
from smartload.planner.model import PlanModel, build_model
from tests.planner.builders import car, hourly, problem

PRICES = [0.30, 0.12, 0.25, 0.10, 0.28, 0.11, 0.30, 0.30]


def _shared() -> PlanModel:
    """Three cars at one wallbox over eight hours of uneven prices: which car has the
    wallbox when, and how many plug swaps, is the whole question."""
    cars = [car(name, need_kwh=need, departure_h=8.0, wallbox=None, allowed_wallboxes=(1,))
            for name, need in (("A", 9.0), ("B", 14.0), ("C", 6.0))]
    return build_model(problem(hourly(PRICES), cars), PlannerSettings())


def _branched(model: PlanModel, gap: float = 0.0, incumbent: tuple[FloatArray, float] | None = None,
              target: float = -np.inf) -> SolveResult:
    program = model.program
    session = program.session()
    session.relax(10.0)
    return branch_and_bound(model, session, program.lb, program.ub, gap, perf_counter() + 30.0, incumbent, target)


def test_it_proves_the_milp_optimum_with_an_integral_feasible_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(branch_module, "MAX_LPS", 10_000)  # a proof at gap 0 enumerates more
    model = _shared()
    exact = model.program.solve(30.0, 0.0)
    result = _branched(model)
    assert result.status == OPTIMAL
    assert result.x is not None
    assert model.program.violation(result.x) <= 1e-9
    assert result.fun == pytest.approx(exact.fun, abs=1e-7)
    assert result.fun == pytest.approx(4.0311469, abs=1e-6)
    assert result.mip_dual_bound is not None and result.mip_dual_bound <= result.fun + 1e-9


def test_out_of_lps_it_keeps_the_incumbent_it_was_given_and_says_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _shared()
    exact = model.program.solve(30.0, 0.0)
    assert exact.x is not None
    monkeypatch.setattr(branch_module, "MAX_LPS", 1)
    result = _branched(model, incumbent=(exact.x, exact.fun + 1.0))
    assert result.status == LIMIT
    assert result.fun == pytest.approx(exact.fun + 1.0)
    assert result.x is exact.x


def test_an_incumbent_at_the_target_ends_it_before_any_lp(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _shared()
    exact = model.program.solve(30.0, 0.0)
    assert exact.x is not None
    monkeypatch.setattr(branch_module, "MAX_LPS", 0)
    result = _branched(model, incumbent=(exact.x, exact.fun), target=exact.fun)
    assert result.status == OPTIMAL
    assert result.fun == exact.fun


def test_solve_model_plans_a_shared_wallbox_without_highs_milp_where_few_binaries_are_free(
        monkeypatch: pytest.MonkeyPatch) -> None:
    milps: list[float] = []
    real = FrozenProgram.solve

    def recorded(self: FrozenProgram, time_limit_s: float, *args: Any, **kwargs: Any) -> SolveResult:
        if not kwargs.get("relax", False):
            milps.append(time_limit_s)
        return real(self, time_limit_s, *args, **kwargs)

    monkeypatch.setattr(FrozenProgram, "solve", recorded)
    model = _shared()
    assert free_binaries(model, model.program.lb, model.program.ub).size > 0
    solution = solve_module.solve_model(model, perf_counter() + 30.0)
    assert milps == []
    assert solution.objective_eur == pytest.approx(4.0311469, abs=1e-3)
    # The relaxation's bound is too weak here to call it optimal, on either path.
    assert solution.status == "feasible"

    # With the threshold below the neighbourhood's binaries, HiGHS searches it as before.
    monkeypatch.setattr(solve_module, "BRANCH_MAX_FREE", 0)
    solution = solve_module.solve_model(_shared(), perf_counter() + 30.0)
    assert milps
    assert solution.objective_eur == pytest.approx(4.0311469, abs=1e-3)
    assert solution.status == "feasible"


@pytest.mark.parametrize("seed", range(6))
def test_on_random_shared_wallboxes_it_finds_highs_s_optimum(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uneven prices, needs and departures, some cars leaving before others: whatever the
    tree looks like, the proven optimum is HiGHS's (both at gap 0)."""
    monkeypatch.setattr(branch_module, "MAX_LPS", 10_000)
    rng = np.random.default_rng(seed)
    prices = [float(p) for p in rng.choice([0.10, 0.12, 0.20, 0.30, 0.40], size=8)]
    cars = [car(name, need_kwh=float(rng.uniform(3.0, 16.0)), departure_h=float(rng.integers(4, 9)), wallbox=None,
                allowed_wallboxes=(1,)) for name in "ABC"]
    model = build_model(problem(hourly(prices), cars), PlannerSettings())
    exact = model.program.solve(30.0, 0.0)
    result = _branched(model)
    assert result.status == OPTIMAL
    assert result.x is not None and model.program.violation(result.x) <= 1e-9
    assert result.fun == pytest.approx(exact.fun, abs=1e-7)
