"""Solve the planning model: LP relaxation, then a MILP, then (if need be) the repair.

1. The LP relaxation (HiGHS): a lower bound on the cost, and where each car should charge.
2. With settings.lp_guided (default), HiGHS solves the MILP restricted to the relaxation's
   neighbourhood (neighbourhood.py): fast and in practice optimal or nearly so. Otherwise,
   or if that finds nothing, the full MILP (scipy.optimize.milp) with the time left.
3. If no MILP found a schedule in time: the relaxation repaired (repair.py).

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
    if settings.mode == "milp":
        if settings.lp_guided:
            lb, ub = neighbourhood(model, relaxed)
            result = program.solve(deadline - perf_counter(), settings.mip_rel_gap, lb=lb, ub=ub)
            if result.x is not None and result.status in (0, 1):
                gap = relative_gap(float(result.fun), bound)
                status: PlanStatus = "optimal" if gap <= settings.mip_rel_gap else "feasible"
                return done(status, result.x, float(result.fun), gap)
        if deadline - perf_counter() >= _MIN_MILP_S:
            result = program.solve(deadline - perf_counter(), settings.mip_rel_gap)
            if result.x is not None and result.status in (0, 1):
                if result.mip_dual_bound is not None:
                    bound = max(bound, float(result.mip_dual_bound))
                gap = relative_gap(float(result.fun), bound)
                status = "optimal" if gap <= settings.mip_rel_gap else "feasible"
                return done(status, result.x, float(result.fun), gap)
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
