"""Whole slots for each car at crowded wallboxes: which car has the wallbox when.

Where more cars share a wallbox than the turn orders try (neighbourhood.PERMUTED_USERS),
one turn per car cut from the relaxation's use leaves cars short (the turns ignore
when each car can come and leave), the wallbox is reopened, and HiGHS gets hundreds of
free binaries: 10 cars at one wallbox planned 1.2-2.2 times the cost of the best plan known
(mostly shortfall), after the whole time limit.

The relaxation already says how much of the wallbox each car should have (the sum of its
use there, in slots) and when. Giving each slot to one car is then a transportation
problem: slots (one car per wallbox, one wallbox per car at a time) to cars (each the
floor to the ceiling of its share), keeping as much of the relaxation's use as possible.
At one wallbox its LP is totally unimodular, so HiGHS returns whole slots; with a car at
several crowded wallboxes a fractional answer is rounded (at most one value per row is
above 1/2, so the rounding keeps to the rows).

The relaxation's own use is a feasible point of that LP, so it is never infeasible.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from smartload.planner.lp import FloatArray, LinearProgram
from smartload.planner.model import PlanModel, use_shares

# A slot's worth (relaxation use, 0-1) earlier in the horizon is preferred by this much at
# most: of equal uses, the car keeps the earlier slot (the plan in force is the first).
_EARLIER = 1e-3
_EPS = 1e-6


def assigned_slots(energy: FloatArray, e_max: FloatArray, boxes: npt.NDArray[np.bool_], time_limit_s: float
                   ) -> npt.NDArray[np.bool_] | None:
    """energy / e_max: per (car, wallbox, slot) what the relaxation charges and the most
    there could be (0 where the car cannot be); boxes: the crowded wallboxes (mask).
    Returns, per (car, wallbox, slot), whether the slot is the car's there (False outside
    the crowded wallboxes), or None if HiGHS gave no answer in time."""
    n_cars, _, n = e_max.shape
    use = use_shares(energy, e_max)
    # Any slot where the car can be is choosable: the relaxation's zeros are where another
    # car was cheaper, and the shares must add up over whole slots.
    at = np.argwhere((e_max > 0) & boxes[None, :, None])
    if at.size == 0:
        return np.zeros(e_max.shape, dtype=bool)
    share = use[tuple(at.T)]
    lp = LinearProgram()
    cols = lp.add_vars(len(at), 0.0, 1.0, -(share + _EARLIER * (n - at[:, 2]) / n))
    for key in (at[:, 1] * n + at[:, 2], at[:, 0] * n + at[:, 2]):
        _, row = np.unique(key, return_inverse=True)
        lp.add_rows(int(row.max()) + 1, row, cols, 1.0, -np.inf, 1.0)
    slots = np.zeros(n_cars)
    np.add.at(slots, at[:, 0], share)
    lp.add_rows(n_cars, at[:, 0], cols, 1.0, np.floor(slots + _EPS), np.ceil(slots - _EPS))
    result = lp.freeze().solve(time_limit_s, 0.0, relax=True)
    if result.x is None:
        return None
    mine = np.zeros(e_max.shape, dtype=bool)
    mine[tuple(at.T)] = result.x > 0.5
    return mine


def one_car_per_slot(model: PlanModel, x: FloatArray, lb: FloatArray, ub: FloatArray, time_limit_s: float
                     ) -> tuple[FloatArray, FloatArray] | None:
    """Bounds within lb/ub where each shared wallbox has whole slots for one car each,
    assigned from x's use (an LP's: the narrow neighbourhood's check). Repairing such an
    LP's answer loses little; repairing x itself drops every share but the largest of
    each slot (30 cars on 10 wallboxes: x without shortfall, repaired 1200 EUR with 69 kWh
    short; through these bounds 249 EUR, 3 kWh). None: no assignment in time."""
    grid = model.car_grid()
    energy, e_max = grid.energies(x)
    shared = (e_max > 0).any(axis=2).sum(axis=0) > 1
    mine = assigned_slots(energy, e_max, shared, time_limit_s)
    if mine is None:
        return None
    drop = (grid.energy >= 0) & shared[None, :, None] & ~mine
    lb, ub = lb.copy(), ub.copy()
    for index in (grid.energy[drop], grid.on[drop & (grid.on >= 0)]):
        lb[index] = ub[index] = 0.0
    return lb, ub
