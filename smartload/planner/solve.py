"""Solve the planning model: LP relaxation, MILPs in its neighbourhood, full MILP, repair.

1. The LP relaxation (HiGHS): a lower bound on the cost, and where each car should charge.
2. With settings.lp_guided (default): the MILP restricted to the relaxation's narrow
   neighbourhood (one turn per car at a shared wallbox), then, if that leaves a car short
   where the relaxation did not or more than WIDEN_GAP above the bound, and time is
   left, the wider one; the cheaper schedule wins.
   Each neighbourhood is checked on its own relaxation first; where its turns leave a
   car short, that wallbox's trickles are judged by the whole wallbox's use, then, if a
   car is still short there, the wallbox is reopened.
3. Otherwise, or if those found nothing: the full MILP (scipy.optimize.milp) with the
   time left.
4. If no MILP found a schedule in time: the relaxation repaired (repair.py), the narrow
   neighbourhood's if there was one, else the whole model's.
5. The chosen schedule's continuous part is re-solved with its on/off decisions fixed
   (_polish; unless its MILP proved it within _POLISH_ABOVE_EUR of the optimum, where
   there is no slack to remove), and opposite flows in one slot are netted
   (schedule.net_flows).

The gap is always against a proven lower bound: the relaxation's, or the full MILP's dual
bound when it ran. Status: "optimal" within mip_rel_gap, "feasible" a MILP schedule not
proven within it (a time limit was hit or the neighbourhood was too narrow to prove
more), "fallback" the repaired relaxation.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter
from typing import NamedTuple

import numpy as np
from scipy.optimize import OptimizeResult

from smartload.planner.assemble import assemble, empty_plan
from smartload.planner.inputs import PlannerInput, PlannerSettings
from smartload.planner.lp import FloatArray, Relaxation
from smartload.planner.model import PlanModel, build_model
from smartload.planner.neighbourhood import neighbourhood
from smartload.planner.plan import Plan, PlanStatus
from smartload.planner.repair import repair
from smartload.planner.schedule import Schedule, from_vector, net_flows, to_vector

# A relaxed solution this close to integral and feasible is a MILP solution (HiGHS: 1e-6).
_TOL = 1e-6
# With less time than this left, HiGHS cannot even load the model; the repair stands in.
_MIN_MILP_S = 0.02
_MIN_POLISH_S = 0.05
# A MILP answer proven this close to its own optimum (EUR) has no slack worth an LP to remove.
_POLISH_ABOVE_EUR = 1e-3
WIDEN_GAP = 0.02
# Above this many occupancy variables the relaxation with swap costs takes several times
# longer (30 cars on 10 wallboxes, 2,400 of them: 0.8 s against 0.1 s).
LARGE_OCCUPANCY = 1500


class _Best(NamedTuple):
    x: FloatArray
    objective: float
    repaired: bool  # a repaired relaxation rather than a MILP answer
    slack_eur: float  # how far above its MILP's proven bound it may be (inf: unknown)


def _milp_best(result: OptimizeResult) -> _Best:
    dual = result.get("mip_dual_bound")
    slack = float(result.fun) - float(dual) if dual is not None and np.isfinite(dual) else np.inf
    return _Best(np.asarray(result.x), float(result.fun), False, slack)


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


def _worth_widening(model: PlanModel, relaxed_x: FloatArray, best: _Best, bound: float) -> bool:
    """Whether the narrow neighbourhood's plan calls for the wider one: a car short of its
    target where the relaxation was not, or a gap above WIDEN_GAP (below it, the wider
    search rarely pays for the several times longer it takes)."""
    if _shortfall_kwh(model, best.x) > _shortfall_kwh(model, relaxed_x) + 1e-3:
        return True
    return relative_gap(best.objective, bound) > max(WIDEN_GAP, model.settings.mip_rel_gap)


def _short_boxes(model: PlanModel, x: FloatArray, relaxed_x: FloatArray) -> frozenset[int]:
    """Wallboxes (indices) of the cars the schedule leaves shorter than the relaxation."""
    short = {
        c for c, cv in enumerate(model.cars)
        if cv.shortfall is not None and x[cv.shortfall] > relaxed_x[cv.shortfall] + 1e-3
    }
    return frozenset(pv.pair.wallbox for pv in model.pairs if pv.pair.car in short)


def _narrow_bounds(model: PlanModel, relaxed: Relaxation, deadline: float
                   ) -> tuple[FloatArray, FloatArray, bool, FloatArray | None]:
    """The narrow neighbourhood, with the turns undone at every wallbox where they leave a
    car shorter than the relaxation did: checked on the neighbourhood's own relaxation,
    an LP, so no MILP is spent on turns that cannot work (a grid limit the turns ignore).
    Also returns that LP's solution (None if not solved): repaired, it is a schedule to
    fall back on should the MILP run out of time with something worse."""
    assert relaxed.x is not None
    open_boxes: frozenset[int] = frozenset()
    box_trickles: frozenset[int] = frozenset()
    checked: FloatArray | None = None
    while True:
        lb, ub, narrowed = neighbourhood(model, relaxed, turns=True, open_boxes=open_boxes, box_trickles=box_trickles)
        if not narrowed or deadline - perf_counter() < _MIN_MILP_S:
            return lb, ub, narrowed, checked
        check = model.program.solve(deadline - perf_counter(), 0.0, relax=True, lb=lb, ub=ub)
        if check.x is None or check.status != 0:
            return lb, ub, narrowed, checked
        checked = np.asarray(check.x)
        short = _short_boxes(model, checked, relaxed.x) - open_boxes
        if not short:
            return lb, ub, narrowed, checked
        # First keep the turns there and only give them the slots the wallbox's trickles
        # held: a reopened wallbox can cost the MILP seconds (10 cars under a grid limit).
        open_boxes |= short & box_trickles
        box_trickles |= short


def _guided(model: PlanModel, relaxed: Relaxation, bound: float, deadline: float) -> _Best | None:
    """The MILP in the relaxation's narrow neighbourhood; then, while the answer is worth
    widening and time is left, in the wide one. The cheaper schedule wins."""
    assert relaxed.x is not None
    best: _Best | None = None
    for turns in (True, False):
        if best is not None and (not _worth_widening(model, relaxed.x, best, bound)
                                 or deadline - perf_counter() < _MIN_MILP_S):
            break
        checked = None
        if turns:
            lb, ub, narrowed, checked = _narrow_bounds(model, relaxed, deadline)
        else:
            lb, ub, narrowed = neighbourhood(model, relaxed, turns=False)
        result = model.program.solve(deadline - perf_counter(), model.settings.mip_rel_gap, lb=lb, ub=ub)
        if result.x is not None and result.status in (0, 1) and (best is None or result.fun < best.objective):
            best = _milp_best(result)
        if checked is not None and (best is None or result.status != 0):
            # Out of time: HiGHS's incumbent may be poor; the repaired turns may do better.
            x = to_vector(model, repair(model, checked))
            if best is None or model.program.objective(x) < best.objective:
                best = _Best(x, model.program.objective(x), True, np.inf)
        if turns and not narrowed:
            break  # nothing was narrowed: the wide neighbourhood is this one
    return best


def _polish(model: PlanModel, x: FloatArray, deadline: float) -> FloatArray:
    """The continuous part re-solved exactly with the on/off decisions of x fixed: a MILP
    answer within its gap tolerance may leave slack (a battery cycling for nothing) that
    costs less than the tolerance but makes no sense. Never worse than x."""
    program = model.program
    integer = program.integrality == 1
    lb, ub = program.lb.copy(), program.ub.copy()
    lb[integer] = ub[integer] = np.round(x[integer])
    result = program.solve(max(deadline - perf_counter(), _MIN_POLISH_S), 0.0, relax=True, lb=lb, ub=ub)
    if result.x is not None and result.status == 0 and result.fun <= program.objective(x) + 1e-9:
        return np.asarray(result.x)
    return x


def _guide_cost(model: PlanModel) -> FloatArray | None:
    """The relaxation's objective: the model's own, or with plug swaps free once the
    occupancy rows would make it slow (a weaker bound, reported as such)."""
    occupancy = sum(pv.arrival.size for pv in model.pairs if pv.arrival is not None)
    return model.cost_without_swaps() if occupancy > LARGE_OCCUPANCY else None


def solve_model(model: PlanModel) -> Solution:
    settings = model.settings
    program = model.program
    started = perf_counter()
    deadline = started + settings.time_limit_s

    def done(status: PlanStatus, x: FloatArray, objective: float, gap: float | None,
             schedule: Schedule | None = None) -> Solution:
        schedule = schedule if schedule is not None else from_vector(model, x)
        return Solution(status, schedule, x, objective, gap, perf_counter() - started)

    relaxed = program.relax(settings.time_limit_s, cost=_guide_cost(model))
    if relaxed.x is None:
        schedule = repair(model, None)
        x = to_vector(model, schedule)
        return done("fallback", x, program.objective(x), None, schedule)
    bound = relaxed.objective
    if program.violation(relaxed.x) <= _TOL:
        # Integral already; with swaps left out of the guide, its swaps still cost.
        objective = program.objective(relaxed.x)
        gap = relative_gap(objective, bound)
        return done("optimal" if gap <= settings.mip_rel_gap else "feasible", relaxed.x, objective, gap)
    best: _Best | None = None
    if settings.mode == "milp" and settings.lp_guided:
        best = _guided(model, relaxed, bound, deadline)
    if settings.mode == "milp" and best is None and deadline - perf_counter() >= _MIN_MILP_S:
        result = program.solve(deadline - perf_counter(), settings.mip_rel_gap)
        if result.x is not None and result.status in (0, 1):
            if result.mip_dual_bound is not None:
                bound = max(bound, float(result.mip_dual_bound))
            best = _milp_best(result)
    if best is not None:
        polished = _polish(model, best.x, deadline) if best.slack_eur > _POLISH_ABOVE_EUR else best.x
        schedule = net_flows(model, from_vector(model, polished))
        x = to_vector(model, schedule)
        objective = program.objective(x)
        gap = relative_gap(objective, bound)
        status: PlanStatus = "optimal" if gap <= settings.mip_rel_gap else "fallback" if best.repaired else "feasible"
        return done(status, x, objective, gap, schedule)
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
