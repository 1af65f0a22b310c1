"""Solve the planning model: LP relaxation, MILPs in its neighbourhood, full MILP, repair.

1. The LP relaxation (HiGHS): a lower bound on the cost, and where each car should charge.
2. With settings.lp_guided (default): the MILP restricted to the relaxation's narrow
   neighbourhood (one turn per car at a shared wallbox), then, if that is not proven
   within mip_rel_gap and time is left, the wider one; the cheaper schedule wins.
3. Otherwise, or if those found nothing: the full MILP (scipy.optimize.milp) with the
   time left.
4. If no MILP found a schedule in time: the relaxation repaired (repair.py).

The gap is always against a proven lower bound: the relaxation's, or the full MILP's dual
bound when it ran. Status: "optimal" within mip_rel_gap, "feasible" a MILP schedule not
proven within it, "fallback" the repaired relaxation.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

from smartload.sinks.planner.assemble import assemble, empty_plan
from smartload.sinks.planner.inputs import PlannerInput, PlannerSettings
from smartload.sinks.planner.lp import FloatArray
from smartload.sinks.planner.model import PlanModel, build_model
from smartload.sinks.planner.neighbourhood import neighbourhood
from smartload.sinks.planner.plan import Plan, PlanStatus
from smartload.sinks.planner.repair import repair
from smartload.sinks.planner.schedule import Schedule, from_vector, to_vector

# A relaxed solution this close to integral and feasible is a MILP solution (HiGHS: 1e-6).
_TOL = 1e-6
# With less time than this left, HiGHS cannot even load the model; the repair stands in.
_MIN_MILP_S = 0.02


@dataclass(frozen=True)
class Solution:
    status: PlanStatus
    schedule: Schedule
    x: FloatArray
    objective_eur: float
    gap: float | None
    solve_time_s: float


def relative_gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


def _shortfall_kwh(model: PlanModel, x: FloatArray) -> float:
    return float(sum(x[cv.shortfall] for cv in model.cars if cv.shortfall is not None))


def _worth_widening(model: PlanModel, relaxed_x: FloatArray, best: tuple[FloatArray, float],
                    bound: float) -> bool:
    """Whether the narrow neighbourhood's plan calls for the wider one: a car short of its
    target where the relaxation was not, or a gap above WIDEN_GAP."""
    import os
    widen_gap = float(os.environ.get("WIDEN", "0.02"))
    if _shortfall_kwh(model, best[0]) > _shortfall_kwh(model, relaxed_x) + 1e-3:
        return True
    return relative_gap(best[1], bound) > max(widen_gap, model.settings.mip_rel_gap)


def solve_model(model: PlanModel) -> Solution:
    settings = model.settings
    program = model.program
    started = perf_counter()
    deadline = started + settings.time_limit_s

    def done(status: PlanStatus, x: FloatArray, objective: float, gap: float | None,
             schedule: Schedule | None = None) -> Solution:
        schedule = schedule if schedule is not None else from_vector(model, x)
        return Solution(status, schedule, x, objective, gap, perf_counter() - started)

    relaxed = program.relax(settings.time_limit_s)
    if relaxed.x is None:
        schedule = repair(model, None)
        x = to_vector(model, schedule)
        return done("fallback", x, program.objective(x), None, schedule)
    bound = relaxed.objective
    if program.violation(relaxed.x) <= _TOL:
        return done("optimal", relaxed.x, bound, 0.0)
    best: tuple[FloatArray, float] | None = None
    if settings.mode == "milp" and settings.lp_guided:
        for turns in (True, False):
            remaining = deadline - perf_counter()
            if best is not None and (not _worth_widening(model, relaxed.x, best, bound)
                                     or remaining < _MIN_MILP_S):
                break
            lb, ub, narrowed = neighbourhood(model, relaxed, turns=turns)
            import os
            if not turns and os.environ.get("BOX"):
                remaining = min(remaining, max(float(os.environ["BOX"]), 3 * (perf_counter() - started)))
            result = program.solve(remaining, settings.mip_rel_gap, lb=lb, ub=ub)
            if result.x is not None and result.status in (0, 1) and (best is None or result.fun < best[1]):
                best = (result.x, float(result.fun))
            if not narrowed:
                break  # no shared wallbox: the wider neighbourhood is the same
    if settings.mode == "milp" and best is None and deadline - perf_counter() >= _MIN_MILP_S:
        result = program.solve(deadline - perf_counter(), settings.mip_rel_gap)
        if result.x is not None and result.status in (0, 1):
            if result.mip_dual_bound is not None:
                bound = max(bound, float(result.mip_dual_bound))
            best = (result.x, float(result.fun))
    if best is not None:
        gap = relative_gap(best[1], bound)
        status: PlanStatus = "optimal" if gap <= settings.mip_rel_gap else "feasible"
        return done(status, best[0], best[1], gap)
    schedule = repair(model, relaxed.x)
    x = to_vector(model, schedule)
    objective = program.objective(x)
    return done("fallback", x, objective, relative_gap(objective, bound), schedule)


def make_plan(inputs: PlannerInput, settings: PlannerSettings) -> Plan:
    """Plan every car and the home battery over inputs.slots. Never raises for hard cases:
    targets are soft, and a solver failure leaves the repaired relaxation."""
    started = perf_counter()
    if not inputs.slots:
        return empty_plan(inputs.now, started)
    model = build_model(inputs, settings)
    solution = solve_model(model)
    return assemble(
        model,
        solution.schedule,
        status=solution.status,
        objective_eur=solution.objective_eur,
        gap=solution.gap,
        solve_time_s=solution.solve_time_s,
        started=started,
    )
