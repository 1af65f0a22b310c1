"""Neighbourhoods of the LP relaxation in which a small MILP finds the plan fast.

HiGHS needs 0.5-2 s to close the full model with three cars: the semi-continuous minimum
and wallbox sharing leave thousands of near-equal integer choices, and its own heuristics
find poor schedules (whole cars uncharged) for seconds. The relaxation already says where
each car should charge, so the on/off decisions it is sure about are fixed and HiGHS
decides the rest (the RENS idea):

- on: where the relaxation charges one car alone at or above the wallbox minimum;
- off: where the relaxation does not use the wallbox, except the FREE_PER_CAR slots per
  car that cost less than FREE_BELOW_EUR_PER_KWH more than its best ones (reduced cost),
  so the minimum can be met in a nearby slot;
- open: everything else (energies below the minimum, wallbox slots the relaxation uses).

With turns=True each car also gets one turn at a shared wallbox (first fit, earliest
departure first or the plugged car first), HANDOFF_SLACK slots of overlap left to the
MILP: this removes the relaxation's time-sharing, the slow part. It cannot plan a car
coming back after another (A, B, A), so solve.py tries the wider neighbourhood as well
when time allows and the answer is not proven good enough.

These are heuristics: the plan's gap is reported against the relaxation's bound.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from smartload.sinks.planner.lp import FloatArray, Relaxation
from smartload.sinks.planner.model import PlanModel

FREE_BELOW_EUR_PER_KWH = 0.01
FREE_PER_CAR = 2
HANDOFF_SLACK = 2
_EPS = 1e-6


def _turns(order: list[int], energy: FloatArray, room_kwh: FloatArray) -> tuple[float, list[int]]:
    """Consecutive turns at one wallbox, one per car in order (rows of energy / room_kwh:
    the relaxation's energy and what the car could charge per slot).

    Each turn ends as soon as it has room for the energy the relaxation gave that car here
    (first fit: the relaxation's slots are all cheap, so what matters is that every car
    fits, and early turns leave the most to the cars after). Returns the energy that does
    not fit and the len(order)+1 boundaries.
    """
    n = energy.shape[1]
    cuts = [0]
    missing = 0.0
    for k, c in enumerate(order):
        start = cuts[-1]
        room = np.cumsum(room_kwh[c, start:])
        need = float(energy[c].sum())
        if k == len(order) - 1:
            end = n
        else:
            fits = np.flatnonzero(room >= need - _EPS)
            end = start + (int(fits[0]) + 1 if fits.size else room.size)
        missing += max(0.0, need - (float(room[end - start - 1]) if end > start else 0.0))
        cuts.append(end)
    return missing, cuts


def _turn_windows(model: PlanModel, energy: FloatArray, e_max: FloatArray, room: FloatArray
                  ) -> npt.NDArray[np.bool_]:
    """Where each car may be at each wallbox: one turn per car at a shared wallbox.
    room: what the car can charge per slot in the neighbourhood (its maximum where the
    relaxation uses the wallbox, as those slots stay open to every car in its turn).

    The order is the earliest departure first, or the plugged car first, whichever leaves
    less energy without room (a tie goes to the plugged car: one swap fewer).
    HANDOFF_SLACK slots either side of a handoff stay open to both cars, so the MILP
    chooses the exact handoff.
    """
    allowed = e_max > 0
    far = model.inputs.slots[-1].end
    n = energy.shape[2]
    for w, box in enumerate(model.inputs.wallboxes):
        users = [c for c in range(energy.shape[0]) if energy[c, w].sum() > _EPS]
        if len(users) < 2:
            continue
        edf = sorted(users, key=lambda c: (model.inputs.cars[c].departure or far, c))
        plugged = [c for c in users if model.inputs.cars[c].wallbox_id == box.id]
        orders = ([plugged + [c for c in edf if c not in plugged]] if plugged else []) + [edf]
        scored = [(_turns(o, energy[:, w, :], room[:, w, :]), i) for i, o in enumerate(orders)]
        # The plugged-first order comes first and wins a tie: it saves a plug swap.
        (_, cuts), i = min(scored, key=lambda s: (round(s[0][0], 6), s[1]))
        order = orders[i]
        for k, c in enumerate(order):
            window = np.zeros(n, dtype=bool)
            window[max(0, cuts[k] - HANDOFF_SLACK):min(n, cuts[k + 1] + HANDOFF_SLACK)] = True
            allowed[c, w] &= window
    return allowed


def neighbourhood(model: PlanModel, relaxed: Relaxation, turns: bool) -> tuple[FloatArray, FloatArray, bool]:
    """Variable bounds (lb, ub) of the restricted model, and whether turns narrowed it.
    turns: one turn per car at a shared wallbox (narrow, fast), else cars may alternate
    wherever the relaxation shares a wallbox (wider, slower, sometimes better)."""
    assert relaxed.x is not None and relaxed.reduced_cost is not None
    x, reduced = relaxed.x, relaxed.reduced_cost
    grid = model.car_grid()
    lb, ub = model.program.lb.copy(), model.program.ub.copy()
    has_on = grid.on >= 0
    energy = np.where(grid.energy >= 0, x[np.maximum(grid.energy, 0)], 0.0)
    charging = energy > _EPS
    shared = charging.sum(axis=0, keepdims=True) > 1
    e_max = np.where(grid.energy >= 0, grid.e_max_kwh, 0.0)
    busy_box = charging.any(axis=0, keepdims=True)
    allowed = e_max > 0
    if turns:
        allowed &= _turn_windows(model, energy, e_max, e_max * busy_box)
    narrowed = bool((allowed != (e_max > 0)).any())
    outside = (grid.energy >= 0) & ~allowed
    ub[grid.energy[outside]] = 0.0
    ub[grid.on[outside & has_on]] = 0.0
    # Sure to be on: alone at the wallbox in the relaxation and in the turns, at the minimum.
    alone = allowed & (allowed.sum(axis=0, keepdims=True) == 1)
    sure_on = has_on & alone & ~shared & charging & (energy >= grid.e_min_kwh - _EPS)
    lb[grid.on[sure_on]] = 1.0
    # A slot the relaxation uses at a wallbox stays open to every car whose turn holds it
    # (the turns were cut counting on that).
    idle = has_on & ~busy_box & ~outside
    cost_up = np.where(idle, reduced[np.maximum(grid.energy, 0)], np.inf)
    for c in range(cost_up.shape[0]):
        flat = cost_up[c].ravel()
        order = np.argsort(flat, kind="stable")
        keep = order[:FREE_PER_CAR]
        keep = keep[flat[keep] < FREE_BELOW_EUR_PER_KWH]
        close = idle[c].ravel().copy()
        close[keep] = False
        ub[grid.on[c].ravel()[close]] = 0.0
        ub[grid.energy[c].ravel()[close]] = 0.0
    return lb, ub, narrowed
