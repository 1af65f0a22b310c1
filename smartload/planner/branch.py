"""A small branch and bound in the LpSession, for neighbourhoods with few free binaries.

At a wallbox shared by a few cars the narrow neighbourhood leaves HiGHS 17-54 free
binaries (on/off at the turns' edges; the occupancy is continuous), yet its MILP took
8-208 ms (3 cars at one wallbox, 10 days), most of it in presolve and the root before
any branching. Each LP here is the session's, re-solved from the last basis: 1.4 ms
(median, 5 simplex iterations; HiGHS's own start-up per run is most of it).

Depth first from the best open node, branching on the fractional binary with the largest
value, set to 1 first: the car the LP wants most goes on, and the LP moves the others'
energy. The other child waits until its sibling is solved: where that one is infeasible
or no better than the incumbent, the dive goes on there; otherwise it is queued with
its parent's bound. It stops as soon as the incumbent is within the gap of the least
open bound (the neighbourhood's optimum, proven as HiGHS would) or at the caller's
target (the whole model's bound), and gives up at MAX_LPS or its share of the time.

Measured on 3 cars at one wallbox (scratch runs over 60 days of 2024: the benchmark's
10, and 20 and 30 more): of 59 neighbourhoods, 56 proven in 0-56 LPs (median 8), 3 gave
up at MAX_LPS and went to HiGHS. Tried and dropped: jumping to the best open node
whenever a dive was pruned (2024-02-06: 115 LPs against 44), the newest node first
(2024-02-06: no proof in 400 LPs), the most fractional binary once an incumbent is
known (before the sibling rule: more LPs on 21 of 31 neighbourhoods, fewer on 5), and
reduced-cost fixing at the root (no binary fixed: an on/off column costs nothing
itself, its energy does).
"""

from __future__ import annotations

import heapq
from time import perf_counter

import numpy as np

from smartload.planner.lp import INFEASIBLE, LIMIT, OPTIMAL, FloatArray, LpSession, SolveResult
from smartload.planner.model import PlanModel

# More free binaries than this: HiGHS's cuts and heuristics are worth their start-up time.
MAX_FREE = 64
# An answer not proven within this many LPs goes to HiGHS, started from the best found.
MAX_LPS = 60
# Of the time left, the branching takes at most this share; HiGHS gets the rest.
TIME_SHARE = 0.5
# A value this close to 0 or 1 is integral (HiGHS's mip_feasibility_tolerance).
_TOL = 1e-6
_MIN_LP_S = 0.005


def free_binaries(model: PlanModel, lb: FloatArray, ub: FloatArray) -> np.ndarray:
    """The integer columns lb/ub leave free."""
    return np.flatnonzero((model.program.integrality == 1) & (ub - lb > 0.5))


def branch_and_bound(model: PlanModel, session: LpSession, lb: FloatArray, ub: FloatArray, gap: float,
                     deadline: float, incumbent: tuple[FloatArray, float] | None = None,
                     target: float = -np.inf) -> SolveResult:
    """The MILP within lb/ub, to the relative gap. incumbent: a schedule within lb/ub and
    its objective (a MIP start); target: stop at an incumbent at most this. OPTIMAL with
    mip_dual_bound the proven bound; LIMIT when it gave up (x the best found, if any)."""
    program = model.program
    free = free_binaries(model, lb, ub)
    stop = perf_counter() + TIME_SHARE * (deadline - perf_counter())
    best_x, best = (None, np.inf) if incumbent is None else incumbent
    lps = 0
    pruned = np.inf  # the least bound of the nodes pruned against the incumbent
    # (parent's bound, tie, lb, ub): solved when popped.
    heap: list[tuple[float, int, FloatArray, FloatArray]] = [(-np.inf, 0, lb, ub)]
    made = 1

    def done(status: int, bound: float) -> SolveResult:
        if best_x is None:
            return SolveResult(None, np.nan, status, None)
        return SolveResult(best_x, best, status, min(bound, pruned, best))

    while heap:
        bound = heap[0][0]
        if best_x is not None and (best <= target or best - bound <= gap * max(abs(best), 1e-9)):
            return done(OPTIMAL, bound)
        if lps >= MAX_LPS or stop - perf_counter() < _MIN_LP_S:
            return done(LIMIT, bound)
        _, _, node_lb, node_ub = heapq.heappop(heap)
        # The down child of the last branching, kept until its up sibling is solved: where
        # that one is infeasible (a minimum power that does not fit) or no better than the
        # incumbent, the dive goes on down there instead of jumping back near the root.
        sibling: tuple[float, FloatArray, FloatArray] | None = None
        while lps < MAX_LPS and stop - perf_counter() >= _MIN_LP_S:
            result = session.solve(stop - perf_counter(), node_lb, node_ub, program.cost)
            lps += 1
            if result.status != INFEASIBLE and (result.x is None or result.status != OPTIMAL):
                return done(LIMIT, bound)  # HiGHS out of time: nothing proven below this node
            if result.status == INFEASIBLE or result.fun >= best - gap * abs(best):
                if result.status != INFEASIBLE:
                    pruned = min(pruned, result.fun)
                if sibling is None:
                    break
                _, node_lb, node_ub = sibling
                sibling = None
                continue
            if sibling is not None:
                heapq.heappush(heap, (sibling[0], made, sibling[1], sibling[2]))
                made += 1
                sibling = None
            x = np.asarray(result.x)
            values = x[free]
            fractional = np.flatnonzero(np.abs(values - np.round(values)) > _TOL)
            if fractional.size == 0:
                best_x, best = x, result.fun
                break
            col = free[fractional[int(np.argmax(values[fractional]))]]
            down_ub = node_ub.copy()
            down_ub[col] = 0.0
            sibling = (result.fun, node_lb, down_ub)
            node_lb = node_lb.copy()
            node_lb[col] = 1.0
        else:
            return done(LIMIT, bound)
    return done(OPTIMAL, pruned)
