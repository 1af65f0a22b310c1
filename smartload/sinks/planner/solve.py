"""Solve the planning model: MILP first, then the repaired LP relaxation as a fallback."""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from smartload.sinks.planner.assemble import assemble, empty_plan
from smartload.sinks.planner.inputs import PlannerInput, PlannerSettings
from smartload.sinks.planner.lp import FloatArray, FrozenProgram
from smartload.sinks.planner.model import PlanModel, build_model
from smartload.sinks.planner.plan import Plan, PlanStatus
from smartload.sinks.planner.repair import repair
from smartload.sinks.planner.schedule import Schedule, from_vector, to_vector


@dataclass(frozen=True)
class Solution:
    status: PlanStatus
    schedule: Schedule
    x: FloatArray
    objective_eur: float
    gap: float | None
    solve_time_s: float


def run_milp(program: FrozenProgram, time_limit_s: float, mip_rel_gap: float,
             relax: bool = False) -> OptimizeResult:
    integrality = np.zeros_like(program.integrality) if relax else program.integrality
    return milp(
        program.cost,
        integrality=integrality,
        bounds=Bounds(program.lb, program.ub),
        constraints=LinearConstraint(program.matrix, program.row_lb, program.row_ub),
        options={"time_limit": time_limit_s, "mip_rel_gap": mip_rel_gap, "disp": False},
    )


def _relative_gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


def solve_model(model: PlanModel) -> Solution:
    settings = model.settings
    program = model.program
    started = perf_counter()
    has_integers = bool(program.integrality.any())
    if settings.mode == "milp":
        result = run_milp(program, settings.time_limit_s, settings.mip_rel_gap, relax=not has_integers)
        if result.x is not None and result.status in (0, 1):
            # status 0: proven within mip_rel_gap; 1: a limit was hit with an incumbent.
            status: PlanStatus = "optimal" if result.status == 0 else "feasible"
            gap = float(result.mip_gap) if has_integers and result.mip_gap is not None else 0.0
            return Solution(status, from_vector(model, result.x), result.x, float(result.fun), gap,
                            perf_counter() - started)
    relaxed = run_milp(program, settings.time_limit_s, 0.0, relax=True)
    x_relaxed = relaxed.x if relaxed.x is not None and relaxed.status == 0 else None
    schedule = repair(model, x_relaxed)
    x = to_vector(model, schedule)
    objective = program.objective(x)
    gap = _relative_gap(objective, float(relaxed.fun)) if x_relaxed is not None else None
    return Solution("fallback", schedule, x, objective, gap, perf_counter() - started)


def make_plan(inputs: PlannerInput, settings: PlannerSettings) -> Plan:
    """Plan every car and the home battery over inputs.slots. Never raises for hard cases:
    targets are soft and a solver failure falls back to the repaired relaxation."""
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
