"""Solve the planning model: LP relaxation, MILPs in its neighbourhood, full MILP, repair.

1. The LP relaxation (HiGHS): a lower bound on the cost, and where each car should charge.
2. With settings.lp_guided (default): the MILP restricted to the relaxation's narrow
   neighbourhood (one turn per car at a shared wallbox, in the order whose neighbourhood
   has the cheapest relaxation), then, if that leaves a car short
   where the relaxation did not or more than WIDEN_GAP above the bound, and time is
   left, the wider one; the cheaper schedule wins.
   Each neighbourhood is checked on its own relaxation first; where its turns leave a
   car short, that wallbox's trickles are judged by the whole wallbox's use, then, if a
   car is still short there, the wallbox is reopened.
   Where no wallbox is shared, an LP dive (dive.py) in the narrow bounds first: where
   the dived schedule is within mip_rel_gap of the relaxation's bound it is the answer
   and no MILP runs (own wallboxes, with the surplus and grid-limit rows of
   model.add_surplus_cuts and add_limit_cuts and the dive's block-aware picks: 19 of 20
   cases with 3 cars, 20 of 20 with 10).
   Where a wallbox is shared and a neighbourhood leaves at most branch.MAX_FREE binaries
   free, its MILP is first searched by branch.py's own branch and bound in the LpSession
   (1-2 ms per LP, where HiGHS's MILP spends tens of milliseconds before it branches);
   HiGHS takes over, from the best schedule it found, only where it proves nothing
   within branch.MAX_LPS LPs.
   Each MILP starts (a MIP start) from the cheapest schedule known that its bounds
   allow: the previous plan carried over (warm.py, when make_plan is given it), the
   dive's schedule, the narrow neighbourhood's relaxation repaired, or the narrow
   MILP's answer for the wide. Each stops as soon as its incumbent is within
   mip_rel_gap of the relaxation's bound (objective_target: nothing left to prove),
   else at mip_rel_gap of its own bound (NEIGHBOURHOOD_GAP_SHARE of it after a dive).
   A previous plan already within the gap of the relaxation's bound is kept as it is;
   so is one no further above the bound than the search that made it left it, where that
   search ended on its own (warm.still_settled: nothing changed that it did not weigh).
3. Otherwise, or if those found nothing: the full MILP (HiGHS, lp.py) with the
   time left.
4. If no MILP found a schedule in time: the relaxation repaired (repair.py), the narrow
   neighbourhood's if there was one, else the whole model's.
5. The chosen schedule's continuous part is re-solved with its on/off decisions fixed
   (_polish; unless its MILP proved it within _POLISH_ABOVE_EUR of the optimum, where
   there is no slack to remove), and opposite flows in one slot are netted
   (schedule.net_flows).

Every LP of a plan (the relaxation, the turn orders' and the neighbourhood's checks, the
dive, the polish) is solved in one lp.LpSession: each from the last basis, in a millisecond or two.

The gap is always against a proven lower bound: the relaxation's, or the full MILP's dual
bound when it ran. Status: "optimal" within mip_rel_gap, "feasible" a MILP schedule not
proven within it (a time limit was hit, the neighbourhood was too narrow to prove more,
or the relaxation's bound is too weak: own wallboxes, 3 cars, it lies 0.0-0.16 % below
the optimum on 19 of 20 days and 0.43 % on one, 0.0-0.45 % before the grid-limit rows,
0.2-1.6 % before the surplus rows), "fallback" the
repaired relaxation or the cars charged in arrival order (fleet.arrival_order),
whichever costs less: a fallback never leaves waiting cars uncharged for want of a
relaxation.

The gap reported (Solution.gap, Plan.gap) is on energy cost: the objective's distance to
the bound in EUR (objective and bound both carry the same penalties, shortfall, swaps,
starts, so their difference is what any plan could still save, penalties included),
divided by the plan's energy cost |import x price - export x price| (at least
GAP_FLOOR_EUR), not by the objective, whose shortfall penalties (100 EUR/kWh and more)
would make a car left short look like a tiny gap. The status still compares the
objective's own relative gap with mip_rel_gap, which is what HiGHS proves.

Deadline: settings.time_limit_s bounds the whole make_plan, build, solve and assembly;
each HiGHS call gets what is left of it (less ASSEMBLY_RESERVE_S, kept for the plan's
assembly; a MILP also less MILP_OVERRUN_SHARE of it, as HiGHS ends past its limit).
It is wall-clock time (perf_counter), not CPU time: the plan is waited for in real time
(the service's cycle, a person at the API), and on a loaded machine a CPU budget would
let the wall time grow without bound; HiGHS's own time_limit is wall-clock too. The
benchmark (benchmarks/planner_solve_time.py) prints the CPU time beside it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from time import perf_counter
from typing import NamedTuple

import numpy as np

from smartload.planner.assemble import assemble, empty_plan
from smartload.planner.branch import MAX_FREE as BRANCH_MAX_FREE
from smartload.planner.branch import branch_and_bound, free_binaries
from smartload.planner.cars import car_needs, car_pairs
from smartload.planner.dive import dive
from smartload.planner.fleet import arrival_order, dense_bounds, is_fleet, stay_pairs
from smartload.planner.inputs import PlannerInput, PlannerSettings
from smartload.planner.lp import LIMIT, OPTIMAL, FloatArray, LpSession, Relaxation, SolveResult
from smartload.planner.model import PlanModel, build_model
from smartload.planner.neighbourhood import PERMUTED_USERS, crowded_boxes, neighbourhood, turn_orders
from smartload.planner.plan import Plan, PlanStatus
from smartload.planner.repair import in_arrival_order, repair
from smartload.planner.schedule import Schedule, from_vector, net_flows, to_vector
from smartload.planner.slot_assignment import one_car_per_slot
from smartload.planner.warm import Searched, searched_word, settled, still_settled, warm_start

# A relaxed solution this close to integral and feasible is a MILP solution (HiGHS: 1e-6).
_TOL = 1e-6
# With less time than this left, HiGHS cannot even load the model; the repair stands in.
_MIN_MILP_S = 0.02
_MIN_POLISH_S = 0.05
# A MILP answer proven this close to its own optimum (EUR) has no slack worth an LP to remove.
_POLISH_ABOVE_EUR = 1e-3
WIDEN_GAP = 0.02
# After a dive, the neighbourhood MILP is asked for this share of mip_rel_gap against its
# own bound: the neighbourhood itself may cost the rest (10 cars: up to 0.49 % above the
# optimum). Without a dive (shared wallboxes) it gets the whole gap, as it bought nothing
# there (3 cars at one wallbox: the same plans, CPU p95 771 ms against 614).
# Started from the dive, HiGHS stops as soon as the dive's schedule is within what it is
# asked for, where without a start it happened to go on to the neighbourhood's optimum.
# Own wallboxes, 20 days, measured back to back under load 3.2-3.6 (CPU p95; gap to the
# optimum p50): 1.0: 105 ms, 0.21 % (3 cars), 79 ms, 0.19 % (10 cars), 2 and 1 plans
# fewer "optimal"; 0.5: 178 ms, 0.08 %, 123 ms, 0.17 %, as many "optimal" as without
# the dive (254 ms, 0.01 %; 261 ms, 0.17 %).
NEIGHBOURHOOD_GAP_SHARE = 0.5
# A turn order replaces the default only if its neighbourhood's relaxation is cheaper by more.
_ORDER_TOL_EUR = 1e-6
# The turn orders may take this share of the time left; the MILP gets the rest. A fleet's
# neighbourhood costs 38 ms to build and solve at each of its ~35 shared wallboxes: with
# no budget the orders took 1.5 of its 2 s and every fleet plan fell back (arrival order).
_ORDERS_SHARE = 0.25
# The least energy cost (EUR) the reported gap is divided by: a plan that costs next to
# nothing (PV) would otherwise show any cent as a huge relative gap.
GAP_FLOOR_EUR = 0.1
# Kept from the time limit for the plan's assembly (reasons per car and slot), measured
# on 2 loaded cores: 30 cars over 96 slots 0.02-0.06 s, 100 cars 0.18-0.27 s.
ASSEMBLY_RESERVE_S = 0.02
ASSEMBLY_RESERVE_PER_CAR_SLOT_S = 2.5e-5
# HiGHS checks its time limit between steps (a node's LP, a round of root cuts), so a
# MILP stopped by it ends late: 10 cars at one wallbox (planner_solve_time.py --shared 10
# --one-box, 10 days), 3-66 ms past limits of 0.4-1.9 s, which took whole plans past
# their 2 s. Each MILP is given this share less than the time left.
MILP_OVERRUN_SHARE = 0.05
# Above this many occupancy variables the relaxation with swap costs takes several times
# longer (30 cars on 10 wallboxes, 2,400 of them: 0.8 s against 0.1 s).
LARGE_OCCUPANCY = 1500
# The same where a wallbox is crowded (its cars get whole slots from the relaxation's use,
# slot_assignment.py): 10 cars at one wallbox over 96 slots (656-771 occupancies) relax
# in 50-70 ms instead of 200-250, which the MILP turns into plans 0.4-2.4 % cheaper on 3
# of 10 days (the others within 0.5 % either way). Small models keep the swaps: there
# the time is short anyway, and 8 cars over 24 hourly slots planned worse without them.
LARGE_CROWDED_OCCUPANCY = 500


class _Best(NamedTuple):
    x: FloatArray
    objective: float
    repaired: bool  # a repaired relaxation rather than a MILP answer
    slack_eur: float  # how far above its MILP's proven bound it may be (inf: unknown)


def _milp_best(result: SolveResult) -> _Best:
    assert result.x is not None
    dual = result.mip_dual_bound
    slack = result.fun - dual if dual is not None and np.isfinite(dual) else np.inf
    return _Best(result.x, result.fun, False, slack)


@dataclass(frozen=True)
class Solution:
    status: PlanStatus
    schedule: Schedule
    x: FloatArray
    objective_eur: float
    gap: float | None
    solve_time_s: float
    # The objective's distance (EUR) to the bound where the search settled the plan (warm.py);
    # None where it was cut short or fell back.
    search_gap_eur: float | None = None
    # Whether it is the previous plan kept on its search's word (warm.still_settled).
    kept: bool = False


def relative_gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


def proven_below(bound: float, gap: float) -> float:
    """The largest objective whose relative_gap to bound is at most gap (less a hair)."""
    return (bound / (1.0 - gap) if bound > 0 else bound / (1.0 + gap)) - 1e-9


def energy_cost_eur(model: PlanModel, x: FloatArray) -> float:
    return float(x[model.grid_import] @ model.import_price - x[model.grid_export] @ model.export_price)


def energy_gap(model: PlanModel, x: FloatArray, objective: float, bound: float) -> float:
    """The objective's distance to the bound over the plan's energy cost (see the module)."""
    return max(0.0, objective - bound) / max(abs(energy_cost_eur(model, x)), GAP_FLOOR_EUR)


def milp_time_s(deadline: float) -> float:
    """The time limit a MILP is given so that it ends by deadline (MILP_OVERRUN_SHARE)."""
    return (1.0 - MILP_OVERRUN_SHARE) * (deadline - perf_counter())


def assembly_reserve_s(inputs: PlannerInput) -> float:
    return ASSEMBLY_RESERVE_S + ASSEMBLY_RESERVE_PER_CAR_SLOT_S * len(inputs.cars) * len(inputs.slots)


def _shortfall_kwh(model: PlanModel, x: FloatArray) -> float:
    return float(sum(x[cv.shortfall] for cv in model.cars if cv.shortfall is not None))


def _worth_widening(model: PlanModel, relaxed_x: FloatArray, best: _Best, bound: float) -> bool:
    """Whether the narrow neighbourhood's plan calls for the wider one: a car short of its
    target where the relaxation was not, or a gap above WIDEN_GAP (below it, the wider
    search rarely pays for the several times longer it takes)."""
    if _shortfall_kwh(model, best.x) > _shortfall_kwh(model, relaxed_x) + 1e-3:
        return True
    return relative_gap(best.objective, bound) > max(WIDEN_GAP, model.settings.mip_rel_gap)


def _widen(model: PlanModel, relaxed_x: FloatArray, best: _Best, warm: _Best | None, bound: float) -> bool:
    """Whether the wide neighbourhood is worth its time after the narrow one found best:
    judged by the best schedule known, the previous plan (warm) included. Where the narrow
    neighbourhood leaves out a plan in force that is good enough, the wide MILP only finds
    it again: 3 cars at one wallbox re-planned 15 minutes on, one day of 20 took 337 ms
    (a wide MILP of 248) for a plan 0.13 % cheaper than the one now kept (5.3521 against
    5.3593 EUR; planner_solve_time.py --shared 3 --one-box --replan)."""
    known = best if warm is None or best.objective <= warm.objective else warm
    return _worth_widening(model, relaxed_x, known, bound)


def _short_boxes(model: PlanModel, x: FloatArray, relaxed_x: FloatArray) -> frozenset[int]:
    """Wallboxes (indices) of the cars the schedule leaves shorter than the relaxation."""
    short = {
        c for c, cv in enumerate(model.cars)
        if cv.shortfall is not None and x[cv.shortfall] > relaxed_x[cv.shortfall] + 1e-3
    }
    return frozenset(pv.pair.wallbox for pv in model.pairs if pv.pair.car in short)


def _narrow_bounds(model: PlanModel, session: LpSession, relaxed: Relaxation, deadline: float
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
    orders = _best_orders(model, session, relaxed, deadline)
    crowded = frozenset(int(w) for w in np.flatnonzero(crowded_boxes(model.car_grid().energies(relaxed.x)[0])))
    while True:
        lb, ub, narrowed = neighbourhood(model, relaxed, turns=True, open_boxes=open_boxes, box_trickles=box_trickles,
                                         orders=orders)
        if not narrowed or deadline - perf_counter() < _MIN_MILP_S:
            return lb, ub, narrowed, checked
        check = session.solve(deadline - perf_counter(), lb, ub, model.program.cost)
        if check.x is None or check.status != 0:
            return lb, ub, narrowed, checked
        checked = np.asarray(check.x)
        # A crowded wallbox is never reopened: its MILP with hundreds of free binaries
        # found worse plans in the time limit than the assigned slots (10 cars, 1 wallbox).
        short = _short_boxes(model, checked, relaxed.x) - open_boxes - (crowded & box_trickles)
        if not short:
            return lb, ub, narrowed, checked
        # First keep the turns there and only give them the slots the wallbox's trickles
        # held: a reopened wallbox can cost the MILP seconds (10 cars under a grid limit).
        open_boxes |= short & box_trickles
        box_trickles |= short


def _best_orders(model: PlanModel, session: LpSession, relaxed: Relaxation, deadline: float
                 ) -> dict[int, list[int]]:
    """The turn order at each shared wallbox whose narrow neighbourhood has the cheapest
    relaxation, one wallbox after the other (the others at their best so far). An LP from
    the last basis costs a few milliseconds; a poor order costs the MILP its answer (a
    car left short, the wallbox reopened) or the wide neighbourhood's seconds."""
    chosen: dict[int, list[int]] = {}
    now = perf_counter()
    stop = min(deadline - _MIN_MILP_S, now + _ORDERS_SHARE * (deadline - now))
    for w, candidates in turn_orders(model, relaxed).items():
        best: tuple[float, list[int]] | None = None
        for order in candidates:
            if perf_counter() >= stop:
                break
            lb, ub, _ = neighbourhood(model, relaxed, turns=True, orders={**chosen, w: order})
            result = session.solve(deadline - perf_counter(), lb, ub, model.program.cost)
            if result.x is not None and (best is None or result.fun < best[0] - _ORDER_TOL_EUR):
                best = (result.fun, order)
            if best is not None and best[0] <= relaxed.objective + _ORDER_TOL_EUR:
                break  # as cheap as the whole relaxation: no other order can be cheaper
        if best is not None:
            chosen[w] = best[1]
    return chosen


def _start(model: PlanModel, lb: FloatArray, ub: FloatArray, *candidates: _Best | None) -> _Best | None:
    """The cheapest candidate that keeps to the bounds: a MILP's start."""
    fits = [c for c in candidates if c is not None and model.program.within(c.x, lb, ub)]
    return min(fits, key=lambda c: c.objective, default=None)


def _guided(model: PlanModel, session: LpSession, relaxed: Relaxation, bound: float, deadline: float,
            warm: _Best | None) -> _Best | None:
    """The MILP in the relaxation's narrow neighbourhood; then, while the answer is worth
    widening and time is left, in the wide one. The cheaper schedule wins. Each MILP
    starts from the cheapest schedule known that it allows: the previous plan carried
    over (warm), or the narrow neighbourhood's own relaxation repaired (its turns kept)."""
    assert relaxed.x is not None
    best: _Best | None = None
    settings = model.settings
    # No dive where cars share a wallbox: 3 cars at one wallbox (10 days, back to back)
    # took as long with it (CPU p95 771 ms against 756) and cost a little more (p50 0.014 %
    # against 0.008 % above the optimum, max 0.286 % against 0.262 %).
    for turns in (True, False):
        if best is not None and (not _widen(model, relaxed.x, best, warm, bound)
                                 or deadline - perf_counter() < _MIN_MILP_S):
            break
        checked: FloatArray | None = None
        if turns:
            lb, ub, narrowed, checked = _narrow_bounds(model, session, relaxed, deadline)
        else:
            lb, ub, narrowed = neighbourhood(model, relaxed, turns=False)
        dived = _dive(model, session, lb, ub, deadline) if turns and not model.shared else None
        if dived is not None and relative_gap(dived.objective, bound) <= settings.mip_rel_gap:
            return dived  # the first neighbourhood, proven within the gap by the bound: no MILP
        sequenced: list[_Best] = []
        if checked is not None:  # repaired only now: a dive within the gap has no use for it
            sequenced = _sequenced(model, session, checked, lb, ub, deadline)
        start = _start(model, lb, ub, warm, *sequenced, best, dived)
        gap = settings.mip_rel_gap * (NEIGHBOURHOOD_GAP_SHARE if dived is not None else 1.0)
        target = proven_below(bound, settings.mip_rel_gap)
        branched = result = _branched(model, session, lb, ub, gap, deadline, start, target)
        if branched.status != OPTIMAL:
            start = _start(model, lb, ub, start, None if branched.x is None else _milp_best(branched))
            result = model.program.solve(milp_time_s(deadline), gap, lb=lb, ub=ub,
                                         start=None if start is None else start.x, target=target)
            if branched.x is not None and (result.x is None or result.fun > branched.fun):
                result = branched
        if result.x is not None and result.status in (0, 1) and (best is None or result.fun < best.objective):
            best = _milp_best(result)
        if dived is not None and (best is None or dived.objective < best.objective):
            best = dived  # the MILP ran out of time with nothing better
        cheapest = min(sequenced, key=lambda c: c.objective, default=None)
        if cheapest is not None and (best is None or result.status != 0) and (
                best is None or cheapest.objective < best.objective):
            # Out of time: HiGHS's incumbent may be poor; the repaired turns may do better.
            best = cheapest
        if turns and not narrowed:
            break  # nothing was narrowed: the wide neighbourhood is this one
    return best


def _branched(model: PlanModel, session: LpSession, lb: FloatArray, ub: FloatArray, gap: float, deadline: float,
              start: _Best | None, target: float) -> SolveResult:
    """The neighbourhood MILP by branch.py's own branch and bound where a shared wallbox
    leaves it few binaries (HiGHS's start-up costs more there than the search); LIMIT
    without x elsewhere, for HiGHS."""
    if not model.shared or free_binaries(model, lb, ub).size > BRANCH_MAX_FREE:
        return SolveResult(None, np.nan, LIMIT, None)
    return branch_and_bound(model, session, lb, ub, gap, deadline,
                            None if start is None else (start.x, start.objective), target)


def _sequenced(model: PlanModel, session: LpSession, checked: FloatArray, lb: FloatArray, ub: FloatArray,
               deadline: float) -> list[_Best]:
    """The narrow neighbourhood's LP answer repaired: a MILP's start, and the plan should
    the MILP run out of time with worse. Where the repair loses more than the gap (cars
    sharing a wallbox's slots in the LP), the LP is also solved with whole slots for one
    car each (slot_assignment.one_car_per_slot) and repaired from there: often the better
    plan, but not always a start (it may switch off a car the neighbourhood has on)."""
    x = to_vector(model, repair(model, checked))
    plain = _Best(x, model.program.objective(x), True, np.inf)
    lp_objective = model.program.objective(checked)
    if not model.shared or relative_gap(plain.objective, lp_objective) <= model.settings.mip_rel_gap:
        return [plain]
    bounds = one_car_per_slot(model, checked, lb, ub, max(deadline - perf_counter(), _MIN_MILP_S))
    if bounds is None or deadline - perf_counter() < 2 * _MIN_MILP_S:
        return [plain]
    result = session.solve(deadline - perf_counter() - _MIN_MILP_S, *bounds, model.program.cost)
    if result.x is None or result.status != 0:
        return [plain]
    x = to_vector(model, repair(model, np.asarray(result.x)))
    # Not a repaired relaxation but an LP's plan with the slots decided (the repair only
    # rounds to the wallbox minimum): "feasible", not "fallback", should it be the plan.
    return [plain, _Best(x, model.program.objective(x), False, np.inf)]


def _dive(model: PlanModel, session: LpSession, lb: FloatArray, ub: FloatArray, deadline: float) -> _Best | None:
    """The LP dive (dive.py) in the neighbourhood lb/ub: its last LP fixed every binary,
    so there is no slack for the polish to remove."""
    dived = dive(model, session, lb, ub, deadline)
    return None if dived is None else _Best(dived.x, dived.objective, False, 0.0)


def _polish(model: PlanModel, session: LpSession, x: FloatArray, deadline: float) -> FloatArray:
    """The continuous part re-solved exactly with the on/off decisions of x fixed: a MILP
    answer within its gap tolerance may leave slack (a battery cycling for nothing) that
    costs less than the tolerance but makes no sense. Never worse than x."""
    program = model.program
    integer = program.integrality == 1
    lb, ub = program.lb.copy(), program.ub.copy()
    lb[integer] = ub[integer] = np.round(x[integer])
    result = session.solve(max(deadline - perf_counter(), _MIN_POLISH_S), lb, ub, program.cost)
    if result.x is not None and result.status == 0 and result.fun <= program.objective(x) + 1e-9:
        return np.asarray(result.x)
    return x


def _guide_cost(model: PlanModel) -> FloatArray | None:
    """The relaxation's objective: the model's own, or with plug swaps free once the
    occupancy rows would make it slow (a weaker bound, reported as such): above
    LARGE_OCCUPANCY, or above LARGE_CROWDED_OCCUPANCY with more candidate cars at a
    wallbox than the turn orders try."""
    occupancy = sum(pv.arrival.size for pv in model.pairs if pv.arrival is not None)
    cars_at = Counter(pv.pair.wallbox for pv in model.pairs if pv.arrival is not None)
    crowded = max(cars_at.values(), default=0) > PERMUTED_USERS
    large = occupancy > (LARGE_CROWDED_OCCUPANCY if crowded else LARGE_OCCUPANCY)
    return model.cost_without_swaps() if large else None


def solve_model(model: PlanModel, deadline: float | None = None, start: FloatArray | None = None,
                searched: Searched | None = None) -> Solution:
    """deadline: the perf_counter reading by which the solve must end (default: the time
    limit from now); start: a feasible vector to start from (warm.warm_start: the previous
    plan carried over); within the gap of the relaxation's bound, it is the answer. So it
    is, with no search, where it lies no further above the bound than the search that
    made it had settled for (searched: that search's word, warm.still_settled)."""
    settings = model.settings
    program = model.program
    started = perf_counter()
    if deadline is None:
        deadline = started + settings.time_limit_s
    kept: Searched | None = None  # set where the previous plan is kept on its search's word

    def done(status: PlanStatus, x: FloatArray, objective: float, bound: float | None,
             schedule: Schedule | None = None) -> Solution:
        schedule = schedule if schedule is not None else from_vector(model, x)
        gap = None if bound is None else energy_gap(model, x, objective, bound)
        if kept is not None:
            return Solution(status, schedule, x, objective, gap, perf_counter() - started, kept.gap_eur, True)
        word = None
        if bound is not None and status != "fallback" and settled(started, deadline):
            word = max(0.0, objective - bound)
        return Solution(status, schedule, x, objective, gap, perf_counter() - started, word)

    # Presolve drops the occupancy rows of shared wallboxes (_guide_cost); without them it
    # only costs time (lp.LpSession).
    session = program.session(cost=_guide_cost(model),
                              presolve=model.shared)
    relaxed = session.relax(max(deadline - perf_counter(), _MIN_MILP_S))
    if relaxed.x is None:
        schedule = repair(model, None)
        x = to_vector(model, schedule)
        return done("fallback", x, program.objective(x), None, schedule)
    bound = relaxed.objective
    if program.violation(relaxed.x) <= _TOL:
        # Integral already; with swaps left out of the guide, its swaps still cost.
        objective = program.objective(relaxed.x)
        gap = relative_gap(objective, bound)
        return done("optimal" if gap <= settings.mip_rel_gap else "feasible", relaxed.x, objective, bound)
    warm = None if start is None else _Best(start, program.objective(start), False, np.inf)
    best: _Best | None = None
    if warm is not None and relative_gap(warm.objective, bound) <= settings.mip_rel_gap:
        best = warm  # the previous plan still holds: proven within the gap by the relaxation alone
    elif warm is not None and settings.mode == "milp" and still_settled(warm.objective, bound, searched):
        best, kept = warm, searched
    elif settings.mode == "milp" and settings.lp_guided:
        best = _guided(model, session, relaxed, bound, deadline, warm)
    if settings.mode == "milp" and best is None and deadline - perf_counter() >= _MIN_MILP_S:
        result = program.solve(milp_time_s(deadline), settings.mip_rel_gap, start=start)
        if result.x is not None and result.status in (0, 1):
            if result.mip_dual_bound is not None:
                bound = max(bound, float(result.mip_dual_bound))
            best = _milp_best(result)
    if warm is not None and (best is None or warm.objective < best.objective):
        best = warm
    if best is not None:
        polished = _polish(model, session, best.x, deadline) if best.slack_eur > _POLISH_ABOVE_EUR else best.x
        schedule = net_flows(model, from_vector(model, polished))
        x = to_vector(model, schedule)
        objective = program.objective(x)
        gap = relative_gap(objective, bound)
        status: PlanStatus = "optimal" if gap <= settings.mip_rel_gap else "fallback" if best.repaired else "feasible"
        return done(status, x, objective, bound, schedule)
    schedule = repair(model, relaxed.x)
    x = to_vector(model, schedule)
    queued = in_arrival_order(model)
    x_queued = to_vector(model, queued)
    if program.objective(x_queued) < program.objective(x):
        schedule, x = queued, x_queued
    return done("fallback", x, program.objective(x), bound, schedule)


def make_plan(inputs: PlannerInput, settings: PlannerSettings, previous: Plan | None = None) -> Plan:
    """Plan every car and the home battery over inputs.slots. Never raises for hard cases:
    targets are soft, and a solver failure leaves the repaired relaxation (or the cars
    charged in arrival order). settings.time_limit_s covers the whole call. previous: the
    plan in force, the solver's start (warm.py); the answer is never worse than it.

    A fleet (fleet.is_fleet) is planned with the arrival-order plug-ins kept (fleet.py):
    at best "feasible", without a gap, as its bound is not the full model's."""
    started = perf_counter()
    if not inputs.slots:
        return empty_plan(inputs.now, started)
    deadline = started + settings.time_limit_s - assembly_reserve_s(inputs)
    needs = car_needs(inputs, settings)
    pairs = car_pairs(inputs, settings, needs)
    fleet = is_fleet(pairs)
    if fleet:
        n = len(inputs.slots)
        e_min, e_max = dense_bounds(pairs, len(inputs.cars), len(inputs.wallboxes), n)
        limit = None if settings.grid_import_limit_w is None else settings.grid_import_limit_w * np.array(
            [s.duration_h for s in inputs.slots]) / 1000.0
        net = np.array([(s.house_w - s.pv_w) * s.duration_h for s in inputs.slots]) / 1000.0
        room = np.full(n, np.inf) if limit is None else np.maximum(0.0, limit - net)
        _, stays = arrival_order(inputs, needs, e_min, e_max, room)
        pairs = stay_pairs(pairs, stays, n)
    # A fleet's stays are one per car and disjoint at each wallbox: nothing to contest.
    model = build_model(inputs, settings, pairs, [False] * len(pairs) if fleet else None)
    # A fleet's stays are chosen afresh each time (arrival order): its gaps do not compare.
    word = None if previous is None or fleet else searched_word(previous, inputs.now)
    solution = solve_model(model, deadline, warm_start(model, previous), word)
    if fleet and solution.status != "fallback":
        solution = replace(solution, status="feasible", gap=None, search_gap_eur=None)
    searched_at = None
    if solution.search_gap_eur is not None:
        searched_at = previous.searched_at if solution.kept and previous is not None else inputs.now
    return assemble(
        model,
        solution.schedule,
        status=solution.status,
        objective_eur=solution.objective_eur,
        gap=solution.gap,
        solve_time_s=solution.solve_time_s,
        started=started,
        search_gap_eur=solution.search_gap_eur,
        searched_at=searched_at,
    )
