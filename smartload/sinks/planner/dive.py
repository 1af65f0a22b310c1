"""A diving heuristic: round the LP relaxation step by step, re-solving the LP in between.

HiGHS's own heuristics find poor incumbents for this model (whole cars left uncharged for
seconds), while the LP relaxation is fast and close to the optimum. Its two defects are
fixed by bounds, and the LP re-solved so the energy moves where it is cheapest:

- Wallbox sharing: the relaxation time-shares a wallbox (two cars at 60 % and 40 % of many
  slots). The first round gives those slots out in blocks, earliest departure first, each
  car about as many slots as its share; the others are barred there. This is what a person
  would do (one car after the other) and keeps plug swaps to one per car. Later rounds
  keep the car with the largest share wherever sharing reappears.
- Semi-continuous power: an energy below the wallbox minimum is forced up to it when at
  least half of it, else to zero (unless that would overfill the car).

Each round only adds bounds, so the LP stays feasible (targets are soft) and the dive
ends after at most a few rounds. The final repair settles what the dive leaves.
"""

from __future__ import annotations

from time import perf_counter

import numpy as np

from smartload.sinks.planner.lp import FloatArray
from smartload.sinks.planner.model import CarGrid, PlanModel

_EPS = 1e-6
MAX_ROUNDS = 8


class _Bounds:
    def __init__(self, model: PlanModel, grid: CarGrid) -> None:
        self.lb = model.program.lb.copy()
        self.ub = model.program.ub.copy()
        self.grid = grid
        self.eta = np.array([c.charge_efficiency for c in model.inputs.cars])
        self.room = np.array([cv.need.cap_kwh for cv in model.cars]) / np.maximum(self.eta, 1e-9)

    def allowed(self, c: int, w: int, t: int) -> bool:
        i = self.grid.energy[c, w, t]
        return bool(i >= 0 and self.ub[i] > 0)

    def forced(self, c: int, w: int, t: int) -> bool:
        i = self.grid.energy[c, w, t]
        return bool(i >= 0 and self.lb[i] > 0)

    def forbid(self, c: int, w: int, t: int) -> bool:
        i = self.grid.energy[c, w, t]
        if i < 0 or self.lb[i] > 0 or self.ub[i] == 0:
            return False
        self.ub[i] = 0.0
        if self.grid.on[c, w, t] >= 0:
            self.ub[self.grid.on[c, w, t]] = 0.0
        return True

    def own(self, c: int, w: int, t: int) -> bool:
        """Car c alone may charge at wallbox w in slot t, and nowhere else in slot t."""
        changed = False
        for other in range(self.grid.energy.shape[0]):
            if other != c:
                changed |= self.forbid(other, w, t)
        for box in range(self.grid.energy.shape[1]):
            if box != w:
                changed |= self.forbid(c, box, t)
        return changed

    def force_on(self, c: int, w: int, t: int) -> bool:
        e_min = self.grid.e_min_kwh[c, w, t]
        forced_total = float(self.lb[self.grid.energy[c][self.grid.energy[c] >= 0]].sum())
        if forced_total + e_min > self.room[c] + _EPS:
            return self.forbid(c, w, t)
        self.lb[self.grid.energy[c, w, t]] = e_min
        if self.grid.on[c, w, t] >= 0:
            self.lb[self.grid.on[c, w, t]] = 1.0
        self.own(c, w, t)
        return True


def _energies(grid: CarGrid, x: FloatArray) -> FloatArray:
    e = np.where(grid.energy >= 0, x[np.maximum(grid.energy, 0)], 0.0)
    return np.where(e > _EPS, e, 0.0)


def _share(grid: CarGrid, e: FloatArray) -> FloatArray:
    return np.divide(e, grid.e_max_kwh, out=np.zeros_like(e), where=grid.e_max_kwh > 0)


def _assign_blocks(model: PlanModel, bounds: _Bounds, e: FloatArray) -> bool:
    """Give the slots the relaxation uses at a shared wallbox out in blocks.

    For the relaxation, which car takes a slot at a wallbox changes only the windows it
    must respect, not the price; so each car gets about as many of those slots as its
    share adds up to, in time order, earliest departure first.
    """
    share = _share(bounds.grid, e)
    far = model.inputs.slots[-1].end
    changed = False
    for w in range(e.shape[1]):
        cars = np.flatnonzero(e[:, w, :].sum(axis=1) > 0)
        if cars.size < 2:
            continue
        used = np.flatnonzero(e[:, w, :].sum(axis=0) > 0)
        order = sorted(cars, key=lambda c: (model.inputs.cars[c].departure or far, c))
        owner: dict[int, int] = {}
        for c in order:
            wanted = round(float(share[c, w, used].sum()))
            free = [int(t) for t in used if int(t) not in owner and bounds.allowed(c, w, int(t))]
            for t in free[:wanted]:
                owner[t] = int(c)
        for t in used:
            if int(t) not in owner and (e[:, w, t] > 0).sum() > 1:
                owner[int(t)] = int(np.argmax(share[:, w, t]))
        for t, c in owner.items():
            changed |= bounds.own(c, w, t)
    return changed


def _one_wallbox_per_car(bounds: _Bounds, e: FloatArray) -> bool:
    changed = False
    share = _share(bounds.grid, e)
    for c, t in zip(*np.nonzero((e > 0).sum(axis=1) > 1), strict=True):
        forced = [w for w in range(e.shape[1]) if bounds.forced(int(c), w, int(t))]
        changed |= bounds.own(int(c), forced[0] if forced else int(np.argmax(share[c, :, t])), int(t))
    return changed


def _round_minimum(bounds: _Bounds, e: FloatArray, dropped: set[int]) -> bool:
    """Below the minimum: up to it from half of it, else to zero; but a car whose small
    remainder was dropped before gets the minimum, or the remainder would wander from
    slot to slot, one round each."""
    grid = bounds.grid
    low = (e > 0) & (e < grid.e_min_kwh - _EPS)
    changed = False
    for c, w, t in zip(*np.nonzero(low), strict=True):
        c, w, t = int(c), int(w), int(t)
        if bounds.forced(c, w, t) or not bounds.allowed(c, w, t):
            continue
        if e[c, w, t] >= grid.e_min_kwh[c, w, t] / 2 or c in dropped:
            changed |= bounds.force_on(c, w, t)
        else:
            changed |= bounds.forbid(c, w, t)
            dropped.add(c)
    return changed


def dive(model: PlanModel, x_relaxed: FloatArray, deadline: float) -> FloatArray:
    """An LP solution whose car energies need (almost) no more rounding."""
    grid = model.car_grid()
    bounds = _Bounds(model, grid)
    cost = model.cost_without_swaps()
    x = x_relaxed
    dropped: set[int] = set()
    for _ in range(MAX_ROUNDS):
        e = _energies(grid, x)
        changed = _one_wallbox_per_car(bounds, e)
        changed |= _assign_blocks(model, bounds, e)
        changed |= _round_minimum(bounds, e, dropped)
        remaining = deadline - perf_counter()
        if not changed or remaining <= 0:
            break
        result = model.program.solve(remaining, 0.0, relax=True, lb=bounds.lb, ub=bounds.ub, cost=cost)
        if result.x is None or result.status != 0:
            break
        x = result.x
    return x
