"""Solve the planning model: LP relaxation, diving heuristic, then the MILP if time is left.

The LP relaxation gives a lower bound at once. The dive (dive.py) rounds it into a
schedule that meets every constraint, usually within a fraction of a percent of the
optimum. If that schedule is not proven within mip_rel_gap by the LP bound, HiGHS's
branch and bound (scipy.optimize.milp) gets the rest of the time limit; whichever
schedule is cheaper wins, and the gap is always against the best proven bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

from smartload.sinks.planner.assemble import assemble, empty_plan
from smartload.sinks.planner.dive import dive
from smartload.sinks.planner.inputs import PlannerInput, PlannerSettings
from smartload.sinks.planner.lp import FloatArray
from smartload.sinks.planner.model import PlanModel, build_model
from smartload.sinks.planner.plan import Plan, PlanStatus
from smartload.sinks.planner.repair import repair
from smartload.sinks.planner.schedule import Schedule, from_vector, to_vector

# Feasibility tolerance for accepting a relaxed solution as integral (HiGHS works at 1e-6).
_TOL = 1e-6
# Below this the MILP cannot even load the model; the dive's answer stands.
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


def solve_model(model: PlanModel) -> Solution:
    settings = model.settings
    program = model.program
    started = perf_counter()
    deadline = started + settings.time_limit_s
    relaxed = program.solve(settings.time_limit_s, 0.0, relax=True)
    if relaxed.x is None or relaxed.status != 0:
        schedule = repair(model, None)
        x = to_vector(model, schedule)
        return Solution("fallback", schedule, x, program.objective(x), None, perf_counter() - started)
    bound = float(relaxed.fun)
    if program.violation(relaxed.x) <= _TOL:
        return Solution("optimal", from_vector(model, relaxed.x), relaxed.x, bound, 0.0,
                        perf_counter() - started)
    schedule = repair(model, dive(model, relaxed.x, deadline))
    x = to_vector(model, schedule)
    objective = program.objective(x)
    milp_ran = False
    remaining = deadline - perf_counter()
    if (settings.mode == "milp" and relative_gap(objective, bound) > settings.mip_rel_gap
            and remaining >= _MIN_MILP_S):
        result = program.solve(remaining, settings.mip_rel_gap)
        milp_ran = result.status in (0, 1)
        if result.mip_dual_bound is not None and milp_ran:
            bound = max(bound, float(result.mip_dual_bound))
        if result.x is not None and milp_ran and result.fun < objective:
            x, objective = result.x, float(result.fun)
            schedule = from_vector(model, x)
    gap = relative_gap(objective, bound)
    status: PlanStatus = "optimal" if gap <= settings.mip_rel_gap else "feasible" if milp_ran else "fallback"
    return Solution(status, schedule, x, objective, gap, perf_counter() - started)


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
