"""Neighbourhoods of the LP relaxation in which a small MILP finds the plan fast.

HiGHS needs 0.5-2 s to close the full model with three cars: the semi-continuous minimum
and wallbox sharing leave thousands of near-equal integer choices, and its own heuristics
find poor schedules (whole cars uncharged) for seconds. The relaxation already says where
each car should charge, so the on/off decisions it is sure about are fixed and HiGHS
decides the rest (the RENS idea):

- on: where one car alone may use the wallbox and the relaxation charges it at or above
  the minimum;
- off: where the relaxation does not use the wallbox, except, per car, the cheapest such
  slots (by reduced cost) it needs to hold the energy the relaxation gave it, plus
  FREE_PER_CAR that cost less than FREE_BELOW_EUR_PER_KWH more than its best ones, so
  that the minimum can be met in a nearby slot;
- open: everything else (energies below the minimum, wallbox slots the relaxation uses).

With turns=True (narrow) each car also gets one turn at a shared wallbox, cut from the
relaxation's use of that wallbox in an order given per wallbox (solve.py tries every order
of up to PERMUTED_USERS cars on the neighbourhood's LP; else, and by default, earliest
departure first or the plugged car first), the plugged car also free before any other
car can come or, where the relaxation charges it alone first, for that lead (up to
PERMUTED_USERS cars: A, B, C, A), HANDOFF_SLACK slots of overlap left to the MILP, and
(in models with a shared wallbox and more than TRICKLES_OFF_ABOVE_BINARIES binaries)
trickles under half the minimum are off. This removes the relaxation's time-sharing, the slow part. Apart from
the plugged car's lead, it cannot plan a car coming back after another (B, A, B), and
turns can clash with a grid limit; solve.py checks the narrow
neighbourhood on its own relaxation; where it leaves a car short it first judges that
wallbox's trickles by the wallbox's use (box_trickles), then reopens it (open_boxes),
and tries the wide neighbourhood when that is worth the time.

At a crowded wallbox (the relaxation charges more cars there than PERMUTED_USERS) one
turn per car leaves cars short whatever the order, and reopening it leaves HiGHS hundreds
of binaries: there each car gets whole slots instead (slot_assignment.py), with
HANDOFF_SLACK slots either side, and the wallbox is never reopened (solve.py).

These are heuristics: the plan's gap is reported against the relaxation's bound.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np
import numpy.typing as npt

from smartload.planner.lp import FloatArray, Relaxation
from smartload.planner.model import PlanModel, use_shares
from smartload.planner.slot_assignment import assigned_slots

FREE_BELOW_EUR_PER_KWH = 0.01
FREE_PER_CAR = 2
HANDOFF_SLACK = 2
# Shared wallboxes with at most this many cars have every turn order tried (on the
# neighbourhood's LP, solve.py); more have the two default orders (EDF, plugged first).
PERMUTED_USERS = 3
TRICKLES_OFF_ABOVE_BINARIES = 400
# More cars than PERMUTED_USERS at a wallbox get whole slots there (slot_assignment.py)
# instead of one turn each; the assignment's LP takes a few milliseconds (10 cars).
ASSIGNMENT_TIME_LIMIT_S = 0.5
_EPS = 1e-6


def _turns(order: list[int], energy: FloatArray, e_max: FloatArray) -> tuple[float, float, list[int]]:
    """Consecutive turns at one wallbox, one per car in order (rows: cars, columns: slots).

    The relaxation uses the wallbox for a fraction u(t) of each slot (all cars together).
    Each turn ends as soon as that use, at the car's own power, holds the energy the
    relaxation gave the car here: the wallbox stays busy when the relaxation has it busy
    (which respects the grid limit and the cheap hours), one car at a time. Returns the
    energy that does not fit, the energy each car keeps in place, and the boundaries.
    """
    n = energy.shape[1]
    use = use_shares(energy, e_max).sum(axis=0)
    cuts = [0]
    missing = kept = 0.0
    for k, c in enumerate(order):
        start = cuts[-1]
        room = np.cumsum(use[start:] * e_max[c, start:])
        need = float(energy[c].sum())
        if k == len(order) - 1 or room.size == 0:
            end = n
        else:
            fits = np.flatnonzero(room >= need - _EPS)
            end = start + (int(fits[0]) + 1 if fits.size else room.size)
        missing += max(0.0, need - (float(room[end - start - 1]) if end > start else 0.0))
        kept += float(energy[c, start:end].sum())
        cuts.append(end)
    return missing, kept, cuts


def _users(energy: FloatArray, w: int) -> list[int]:
    return [c for c in range(energy.shape[0]) if energy[c, w].sum() > _EPS]


def _after_lead(model: PlanModel, users: list[int], w: int, energy: FloatArray) -> tuple[FloatArray, int]:
    """Wallbox w's energy per (car, slot) that the turns share out, and the end (slot) of
    the plugged car's lead: the slots the relaxation gives it alone before any other car
    charges there. The lead is the plugged car's own first turn (A, B, C, A: it charges on
    until the next car's cheap hours, and comes back for the rest), so its energy there
    is taken out of what the turns share. Only at wallboxes with at most PERMUTED_USERS
    cars; elsewhere, and without a plugged car among the users, there is no lead (0)."""
    box = energy[:, w, :]
    plugged = [c for c in users if model.inputs.cars[c].wallbox_id == model.inputs.wallboxes[w].id]
    if not plugged or len(users) > PERMUTED_USERS:
        return box, 0
    others = [c for c in users if c != plugged[0]]
    charged = np.flatnonzero(box[others].sum(axis=0) > _EPS)
    lead = int(charged[0]) if charged.size else box.shape[1]
    if box[plugged[0], :lead].sum() <= _EPS or box[plugged[0], lead:].sum() <= _EPS:
        return box, 0  # no lead, or the lead is its whole share: one turn as before
    stripped = box.copy()
    stripped[plugged[0], :lead] = 0.0
    return stripped, lead


def _default_orders(model: PlanModel, users: list[int], w: int, box_energy: FloatArray, e_max: FloatArray
                    ) -> list[list[int]]:
    """The default turn orders at wallbox w, the most promising first: the earliest
    departure first, or the plugged car first, whichever leaves less energy without room,
    then keeps more in place (a tie goes to the plugged car: one swap fewer). box_energy:
    what the turns share out there (_after_lead)."""
    far = model.inputs.slots[-1].end
    box = model.inputs.wallboxes[w]
    edf = sorted(users, key=lambda c: (model.inputs.cars[c].departure or far, c))
    plugged = [c for c in users if model.inputs.cars[c].wallbox_id == box.id]
    orders = ([plugged + [c for c in edf if c not in plugged]] if plugged else []) + [edf]
    scored = [(*_turns(o, box_energy, e_max[:, w, :])[:2], i) for i, o in enumerate(orders)]
    return [orders[s[2]] for s in sorted(scored, key=lambda s: (round(s[0], 3), -round(s[1], 3), s[2]))]


def turn_orders(model: PlanModel, relaxed: Relaxation) -> dict[int, list[list[int]]]:
    """Per shared wallbox (index) that the relaxation gives two to PERMUTED_USERS cars:
    every turn order, the default first (what neighbourhood uses without orders). More
    cars keep the default: their turns leave cars short whatever the order, the wallbox
    is reopened, and LPs spent on orders are time its MILP lacks (10 cars at one wallbox:
    more fallbacks)."""
    assert relaxed.x is not None
    energy, e_max = model.car_grid().energies(relaxed.x)
    result: dict[int, list[list[int]]] = {}
    for w in range(e_max.shape[1]):
        users = _users(energy, w)
        if 2 <= len(users) <= PERMUTED_USERS:
            ranked = _default_orders(model, users, w, _after_lead(model, users, w, energy)[0], e_max)
            result[w] = ranked + [list(o) for o in permutations(users) if list(o) not in ranked]
    return result


def crowded_boxes(energy: FloatArray) -> npt.NDArray[np.bool_]:
    """Per wallbox: whether the relaxation (energy per car, wallbox, slot) charges more
    cars there than PERMUTED_USERS: there they get whole slots (slot_assignment.py), not
    one turn each."""
    return np.asarray((energy > _EPS).any(axis=2).sum(axis=0) > PERMUTED_USERS)


def _turn_windows(model: PlanModel, energy: FloatArray, e_max: FloatArray,
                  orders: dict[int, list[int]]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Where each car may be at each wallbox: one turn per car at a shared wallbox, in the
    order given for it (default: the first of _default_orders). HANDOFF_SLACK slots
    either side of a handoff stay open to both cars, so the MILP chooses the exact handoff.
    At a wallbox with at most PERMUTED_USERS cars, the car plugged in now also keeps the
    slots before any other car can come, or before the relaxation charges another car
    there (its lead, _after_lead, and HANDOFF_SLACK more): charging there swaps nothing
    (it may then come back for a turn of its own).

    At a crowded wallbox (crowded_boxes) each car has its assigned slots instead, and
    HANDOFF_SLACK slots either side. Also returns the slots each car has to itself: the
    assigned ones there (the slack is shared with the neighbours), else where it may be.
    """
    allowed = e_max > 0
    n = energy.shape[2]
    crowded = crowded_boxes(energy)
    mine = assigned_slots(energy, e_max, crowded, ASSIGNMENT_TIME_LIMIT_S) if crowded.any() else None
    if mine is not None:
        window = mine.copy()
        for d in range(1, HANDOFF_SLACK + 1):
            window[:, :, d:] |= mine[:, :, :-d]
            window[:, :, :-d] |= mine[:, :, d:]
        allowed[:, crowded] &= window[:, crowded]
    else:
        crowded[:] = False  # no assignment in time: turns, as at the other wallboxes
    own = allowed.copy()
    if mine is not None:
        own[:, crowded] = mine[:, crowded]
    for w, box in enumerate(model.inputs.wallboxes):
        users = _users(energy, w)
        if len(users) < 2 or crowded[w]:
            continue
        box_energy, lead = _after_lead(model, users, w, energy)
        order = orders.get(w) or _default_orders(model, users, w, box_energy, e_max)[0]
        _, _, cuts = _turns(order, box_energy, e_max[:, w, :])
        first_other = n
        for k, c in enumerate(order):
            window = np.zeros(n, dtype=bool)
            window[max(0, cuts[k] - HANDOFF_SLACK):min(n, cuts[k + 1] + HANDOFF_SLACK)] = True
            allowed[c, w] &= window
            if model.inputs.cars[c].wallbox_id != box.id:
                present = np.flatnonzero(e_max[c, w] > 0)
                first_other = min(first_other, int(present[0]) if present.size else n)
        free = max(first_other, min(n, lead + HANDOFF_SLACK) if lead else 0)
        for c in users if len(users) <= PERMUTED_USERS else ():
            if model.inputs.cars[c].wallbox_id == box.id:
                allowed[c, w, :free] = e_max[c, w, :free] > 0
    return allowed, own


def neighbourhood(model: PlanModel, relaxed: Relaxation, turns: bool, open_boxes: frozenset[int] = frozenset(),
                  box_trickles: frozenset[int] = frozenset(), orders: dict[int, list[int]] | None = None
                  ) -> tuple[FloatArray, FloatArray, bool]:
    """Variable bounds (lb, ub) of the restricted model, and whether turns narrowed it.
    turns: one turn per car at a shared wallbox and no trickles (narrow, fast), except at
    the wallboxes (indices) in open_boxes; else cars may alternate wherever the relaxation
    shares a wallbox (wider, slower, sometimes better). At the wallboxes in box_trickles,
    a trickle is judged by the whole wallbox's use, which a car's turn takes over.
    orders: the turn order per shared wallbox (index; default: turn_orders' first)."""
    assert relaxed.x is not None and relaxed.reduced_cost is not None
    x, reduced = relaxed.x, relaxed.reduced_cost
    grid = model.car_grid()
    lb, ub = model.program.lb.copy(), model.program.ub.copy()
    has_on = grid.on >= 0
    energy, e_max = grid.energies(x)
    charging = energy > _EPS
    busy_box = charging.any(axis=0, keepdims=True)
    allowed = e_max > 0
    narrow = np.ones(e_max.shape[1], dtype=bool)
    narrow[list(open_boxes)] = False
    narrow = turns & narrow[None, :, None]
    if turns:
        windows, own = _turn_windows(model, energy, e_max, orders or {})
        allowed &= windows | ~narrow
    else:
        # Cars alternate wherever the relaxation shares a wallbox, but a slot holds one of
        # them: each car's own are the slots where it has the largest share.
        share = use_shares(energy, e_max)
        own = allowed & charging & (share >= share.max(axis=0, keepdims=True))
    outside = (grid.energy >= 0) & ~allowed
    ub[grid.energy[outside]] = 0.0
    ub[grid.on[outside & has_on]] = 0.0
    # Sure to be on: the only car allowed at the wallbox then, charged at the minimum or more.
    alone = allowed & (allowed.sum(axis=0, keepdims=True) == 1)
    sure_on = has_on & alone & charging & (energy >= grid.e_min_kwh - _EPS)
    lb[grid.on[sure_on]] = 1.0
    if turns and model.shared and int(model.program.integrality.sum()) > TRICKLES_OFF_ABOVE_BINARIES:
        # A trickle under half the minimum (a grid limit or PV surplus spread thin) is off;
        # the room it leaves is made up below like any other. Small models keep them open:
        # there they cost little time and often hold the best use of a PV surplus. So do
        # models without a shared wallbox: there the dive needs no MILP where it keeps them,
        # and the surplus rows (model.add_surplus_cuts) make the relaxation pay for a PV
        # trickle as a plan would (10 cars at own wallboxes, 10 days: off, one plan 0.57 %
        # above the optimum after a MILP; open, all within 0.15 % without one, CPU p95 50 ->
        # 38 ms).
        # Where cars share a wallbox at once in the relaxation, each one's share may be a
        # trickle though the wallbox is well used: judged by its own share, a car loses the
        # slots of its turn (a grid limit spread over many cars).
        share = energy
        if box_trickles:
            use = use_shares(energy, e_max).sum(axis=0, keepdims=True)
            by_box = np.zeros(e_max.shape[1], dtype=bool)
            by_box[list(box_trickles)] = True
            share = np.where(by_box[None, :, None], use * e_max, energy)
        trickle = has_on & charging & (share < grid.e_min_kwh / 2) & narrow
        allowed &= ~trickle
        ub[grid.energy[trickle]] = 0.0
        ub[grid.on[trickle]] = 0.0
    narrowed = bool((allowed != (e_max > 0)).any())
    # Slots the relaxation uses at a wallbox stay open to every car allowed there. Of the
    # others, each car keeps the cheapest (by reduced cost) it needs to have room for the
    # energy the relaxation gave it, plus FREE_PER_CAR close to its best.
    usable = grid.energy >= 0
    idle = usable & ~busy_box & allowed
    cost_up = np.where(idle, reduced[np.maximum(grid.energy, 0)], np.inf)
    # Room is counted where the car has the wallbox to itself: a crowded wallbox's slack
    # slots are its neighbours' too (8 cars at one wallbox: a car rounded down to fewer
    # slots than its share had no other slot open and fell short, 27.26 EUR against 12.53).
    deficit = energy.sum(axis=(1, 2)) - (e_max * (busy_box & own & allowed)).sum(axis=(1, 2))
    for c in range(cost_up.shape[0]):
        flat = cost_up[c].ravel()
        order = np.argsort(flat, kind="stable")
        order = order[np.isfinite(flat[order])]
        needed = 0
        if deficit[c] > _EPS:
            needed = int(np.searchsorted(np.cumsum(e_max[c].ravel()[order]), deficit[c] - _EPS)) + 1
        extra = order[needed:needed + FREE_PER_CAR]
        keep = np.r_[order[:needed], extra[flat[extra] < FREE_BELOW_EUR_PER_KWH]]
        close = idle[c].ravel().copy()
        close[keep] = False
        ub[grid.energy[c].ravel()[close]] = 0.0
        on = grid.on[c].ravel()[close]
        ub[on[on >= 0]] = 0.0
    return lb, ub, narrowed
