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


def _best_turns(kept: FloatArray) -> tuple[float, list[int]]:
    """Split slots 0..n into consecutive turns, one per row of kept (energy per slot the
    relaxation gave that car), keeping the most energy where the relaxation put it.
    Returns the kept energy and the m+1 turn boundaries."""
    m, n = kept.shape
    prefix = np.concatenate([np.zeros((m, 1)), np.cumsum(kept, axis=1)], axis=1)
    best = np.zeros(n + 1)  # best[b]: turns so far end at slot b
    choice = np.zeros((m, n + 1), dtype=np.int64)
    for k in range(m):
        shifted = best - prefix[k]
        arg = np.zeros(n + 1, dtype=np.int64)
        run = np.maximum.accumulate(shifted)
        # the argmax of the running maximum: the last index where it was attained
        idx = np.where(shifted == run, np.arange(n + 1), 0)
        arg = np.maximum.accumulate(idx)
        best = prefix[k] + run
        choice[k] = arg
    bounds = [n]
    for k in range(m - 1, -1, -1):
        bounds.append(int(choice[k, bounds[-1]]))
    bounds[-1] = 0
    return float(best[n]), bounds[::-1]


def _assign_turns(model: PlanModel, bounds: _Bounds, e: FloatArray) -> bool:
    """One turn per car at each shared wallbox, in one of two orders: earliest departure
    first, or the plugged car first (then earliest departure). The order and the handoffs
    are those that keep the most of the relaxation's energy where it put it."""
    far = model.inputs.slots[-1].end
    changed = False
    for w in range(e.shape[1]):
        users = [c for c in range(e.shape[0]) if e[c, w].sum() > 0]
        others = [c for c in range(e.shape[0]) if c not in users]
        for c in others:
            for t in range(e.shape[2]):
                changed |= bounds.forbid(c, w, t)
        if len(users) < 2:
            continue
        edf = sorted(users, key=lambda c: (model.inputs.cars[c].departure or far, c))
        box_id = model.inputs.wallboxes[w].id
        plugged = [c for c in users if model.inputs.cars[c].wallbox_id == box_id]
        orders = [edf] + ([plugged + [c for c in edf if c not in plugged]] if plugged else [])
        scored = [(_best_turns(e[order, w, :]), order) for order in orders]
        # The plugged-first order (listed last) wins ties: it saves a plug swap.
        (_, cuts), order = max(scored, key=lambda s: (s[0][0], scored.index(s)))
        for k, c in enumerate(order):
            for t in range(e.shape[2]):
                if not cuts[k] <= t < cuts[k + 1]:
                    changed |= bounds.forbid(c, w, t)
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
    for round_ in range(MAX_ROUNDS):
        e = _energies(grid, x)
        changed = _one_wallbox_per_car(bounds, e)
        if round_ == 0:
            changed |= _assign_turns(model, bounds, e)
        changed |= _round_minimum(bounds, e, dropped)
        remaining = deadline - perf_counter()
        if not changed or remaining <= 0:
            break
        result = model.program.solve(remaining, 0.0, relax=True, lb=bounds.lb, ub=bounds.ub)
        if result.x is None or result.status != 0:
            break
        x = result.x
    return x
