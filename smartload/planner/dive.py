"""An LP dive: an integral schedule from the relaxation in a handful of warm LPs.

The neighbourhood MILP (solve.py) spends most of its time in HiGHS's presolve and root
before it branches. A dive in the planner's LpSession instead fixes binaries a batch at
a time and re-solves the LP from the last basis (1-2 ms each) until nothing fractional
is left; its last LP has every binary fixed, so its schedule is already polished.
Where that schedule is within mip_rel_gap of the relaxation's bound it is the answer
without any MILP; otherwise it is the MILP's start.

The relaxation spreads a car's energy as trickles over many slots (on/off a few
hundredths, under a grid limit or beside a cheap hour). Rounding each to the nearest
value switches the trickles off, and with them the energy: cars left short, plans
+0.4-440 % (measured on the own-wallbox benchmark). Fixing the binaries the relaxation
already has at 0 does the same: the energy has nowhere to go. So, per round:

- per (car, wallbox) pair, its fractional on/off decisions: if their energy is at least
  half the pair's minimum, the ceil(energy / most per slot) of them the relaxation
  uses most go on (the LP then moves the trickles' energy there; in the window where
  each block costs the switch penalty, those next to a slot on first: _Dive.pick); else all go off,
  and if that leaves the car shorter than before, the one used most goes on instead;
- the other binaries (import/export and battery exclusivity, surplus) within NEAR of
  0 or 1 go there; when nothing else is fixed in a round, the least fractional one;
- the binaries the relaxation has at 1 are fixed at 1 in the first round.

A round whose LP is infeasible is undone and its first binary fixed the other way; if
that is infeasible too, the dive gives up (None), as it does when time runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import numpy as np
import numpy.typing as npt

from smartload.planner.lp import FloatArray, IntArray, LpSession, SolveResult
from smartload.planner.model import PlanModel, on_before

# A value this close to 0 or 1 is integral (HiGHS's mip_feasibility_tolerance).
TOL = 1e-6
# Binaries other than on/off within this of 0 or 1 are fixed there in a batch.
NEAR = 0.1
# Under this share of the pair's minimum per slot, a pair's fractional energy goes off.
OFF_BELOW_MIN_SHARE = 0.5
# A fractional on/off decision next to a slot on wins over others by this much (Dive.pick).
BLOCK_BONUS = 0.1
# Candidates scoring within this of the best are equal; the earliest of them wins.
EQUAL = 1e-3
# With less time left than this, an LP is not started (the caller has a fallback).
_MIN_LP_S = 0.005
# A dive needing more LPs gives up: on the own-wallbox benchmark (20 days, 3 and 10 cars)
# dives take 3-30; at one wallbox shared by 3 cars, 60 LPs cost 0.2 s.
MAX_LPS = 30
# Of the time left when it starts, a dive takes at most this share: the MILP it would
# have started needs the rest (a fleet's LPs take tens of milliseconds each).
TIME_SHARE = 0.5


@dataclass(frozen=True)
class Dived:
    """An integral schedule x (every binary fixed, the rest LP-optimal) and its objective."""

    x: FloatArray
    objective: float
    lps: int


@dataclass(frozen=True)
class _Pair:
    on: IntArray  # ascending, like energy and slots
    energy: IntArray
    slots: IntArray
    wallbox: int
    e_min_kwh: float
    e_max_kwh: float
    e_max_slot_kwh: FloatArray
    car: int
    shortfall: int | None  # the car's
    # Leading slots where each charging block costs the switch penalty (0: none), and
    # whether the car charges as the plan starts (a block going on from there is free).
    window: int = 0
    on_before: bool = False


def _pairs(model: PlanModel) -> list[_Pair]:
    pairs = []
    for pv in model.pairs:
        if pv.on is None:
            continue
        shortfall = model.cars[pv.pair.car].shortfall
        pairs.append(_Pair(pv.on, pv.energy, pv.pair.slots, pv.pair.wallbox,
                           float(np.max(pv.pair.e_min_kwh, initial=0.0)), float(np.max(pv.pair.e_max_kwh, initial=0.0)),
                           pv.pair.e_max_kwh, pv.pair.car, None if shortfall is None else int(shortfall),
                           0 if pv.starts is None else int(pv.starts.size), on_before(model.inputs, pv.pair) > 0))
    return pairs


def _room_kwh(model: PlanModel) -> FloatArray:
    """Per car: the most energy from the grid it can take (its cap over its efficiency)."""
    return np.array([cv.need.cap_kwh / car.charge_efficiency
                     for cv, car in zip(model.cars, model.inputs.cars, strict=True)], dtype=np.float64)


def _fractional(x: FloatArray, idx: IntArray) -> IntArray:
    return idx[np.abs(x[idx] - np.round(x[idx])) > TOL]


def _extends(p: _Pair, on: npt.NDArray[np.bool_], a: int) -> bool:
    """Whether putting position a of the pair on extends a block (on: per position)
    inside its switch-penalty window, so that it starts none."""
    return a < p.window and ((a > 0 and bool(on[a - 1])) or (a + 1 < on.size and bool(on[a + 1]))
                             or (a == 0 and p.on_before))


class _Round:
    """The binaries one round fixes (cols, at values) and the pairs it switches off."""

    def __init__(self) -> None:
        self.cols: list[IntArray] = []
        self.values: list[FloatArray] = []
        self.off: list[tuple[_Pair, IntArray]] = []
        self.taken: set[tuple[int, int]] = set()  # (wallbox, slot) where a car goes on
        self.busy: set[tuple[int, int]] = set()  # (car, slot) where it goes on at a wallbox

    def fix(self, cols: IntArray, value: float | FloatArray) -> None:
        self.cols.append(cols)
        self.values.append(np.broadcast_to(np.asarray(value, dtype=np.float64), cols.shape))

    def switch_off(self, p: _Pair, frac: IntArray) -> None:
        self.fix(frac, 0.0)
        self.off.append((p, frac))

    def batch(self) -> tuple[IntArray, FloatArray]:
        return np.concatenate(self.cols).astype(np.int64), np.concatenate(self.values)


class _Dive:
    def __init__(self, model: PlanModel, session: LpSession, lb: FloatArray, ub: FloatArray,
                 deadline: float) -> None:
        self.program = model.program
        self.session = session
        self.lb, self.ub = lb.copy(), ub.copy()
        self.deadline = deadline
        self.pairs = _pairs(model)
        self.room_kwh = _room_kwh(model)
        self.ints = np.flatnonzero(self.program.integrality == 1)
        self.is_on = np.zeros(self.program.cost.size, dtype=bool)
        for p in self.pairs:
            self.is_on[p.on] = True
        self.lps = 0

    def out_of_budget(self) -> bool:
        return self.deadline - perf_counter() < _MIN_LP_S or self.lps >= MAX_LPS

    def solve(self) -> SolveResult | None:
        """The LP with the dive's bounds; None where infeasible or out of budget."""
        if self.out_of_budget():
            return None
        self.lps += 1
        result = self.session.solve(self.deadline - perf_counter(), self.lb, self.ub, self.program.cost)
        return result if result.x is not None else None

    def free(self) -> IntArray:
        return self.ints[self.lb[self.ints] < self.ub[self.ints]]

    def pick(self, p: _Pair, x: FloatArray, at: IntArray, ranked: list[int], k: int) -> list[int]:
        """k of the ranked candidates (indices into at, the positions in the pair of its
        fractional on/off decisions), the most used first. In the pair's switch-penalty
        window a slot next to one on (or the first slot, where the car charges now) wins
        by BLOCK_BONUS, as it extends a block where another would start one, and of
        candidates within EQUAL of the best the earliest wins. The relaxation often
        spreads a trickle evenly over many slots, and the fullest of them by a hair (the
        LP's noise) started a second block: 3 cars at their own wallboxes, day 15 of 20,
        the dive 0.37 % above the optimum, too far to be proven, where this takes it
        to 0.26 % and no MILP runs. Without EQUAL, a car not charging yet started its
        block at the fullest slot by a hair, mid-window (10 cars, day 10: a MILP of 0.47 s)."""
        if p.window == 0 or k <= 0:
            return ranked[:k]
        on = (self.lb[p.on] == 1.0) | (x[p.on] >= 1.0 - TOL)
        chosen: list[int] = []
        left = list(ranked)
        while left and len(chosen) < k:
            scores = [float(x[p.on[at[j]]]) + (BLOCK_BONUS if _extends(p, on, int(at[j])) else 0.0) for j in left]
            top = max(scores)
            best = min((j for j, sc in zip(left, scores, strict=True) if sc >= top - EQUAL), key=lambda j: int(at[j]))
            left.remove(best)
            chosen.append(best)
            on[int(at[best])] = True
        return chosen

    def round_(self, x: FloatArray) -> _Round:
        r = _Round()
        # Per car: the energy its slots fixed on take at least (the minimum each), and
        # what they could take on top of what they have.
        committed = np.zeros(self.room_kwh.size)
        spare = np.zeros(self.room_kwh.size)
        for p in self.pairs:
            on = self.lb[p.on] == 1.0
            committed[p.car] += p.e_min_kwh * np.count_nonzero(on)
            spare[p.car] += float((p.e_max_slot_kwh[on] - x[p.energy[on]]).sum())
        for p in self.pairs:
            frac = p.on[(self.lb[p.on] < self.ub[p.on]) & (np.abs(x[p.on] - np.round(x[p.on])) > TOL)]
            if not frac.size:
                continue
            at = np.searchsorted(p.on, frac)
            energy = float(x[p.energy[at]].sum())
            k = int(np.ceil(energy / p.e_max_kwh - TOL))
            if energy < OFF_BELOW_MIN_SHARE * p.e_min_kwh:
                # A trickle goes off where the car's blocks can take its energy; else off
                # would only push it to another slot, and one slot goes on instead.
                k = 1 if energy > spare[p.car] + TOL else 0
            if p.e_min_kwh > 0:
                # Each slot on takes at least the minimum: no more of them than the car
                # has room for, else the LP is infeasible.
                k = min(k, int(np.floor((self.room_kwh[p.car] - committed[p.car]) / p.e_min_kwh + TOL)))
            if k <= 0:
                r.switch_off(p, frac)
                continue
            # Two cars on at one wallbox, or one car at two, in one slot: infeasible.
            ranked = [j for j in np.argsort(-x[frac], kind="stable")
                      if (p.wallbox, int(p.slots[at[j]])) not in r.taken
                      and (p.car, int(p.slots[at[j]])) not in r.busy]
            top = frac[np.array(self.pick(p, x, at, ranked, k), dtype=np.int64)]
            slots = p.slots[np.searchsorted(p.on, top)]
            r.taken.update((p.wallbox, int(t)) for t in slots)
            r.busy.update((p.car, int(t)) for t in slots)
            committed[p.car] += p.e_min_kwh * top.size
            r.fix(top, 1.0)
        other = _fractional(x, self.free())
        other = other[~self.is_on[other]]
        distance = np.abs(x[other] - np.round(x[other]))
        near = other[distance <= NEAR]
        if not r.cols and not near.size:
            near = other[np.argsort(distance, kind="stable")[:1]]
        r.fix(near, np.round(x[near]))
        return r

    def run(self) -> Dived | None:
        result = self.solve()
        if result is None:
            return None
        assert result.x is not None
        x = result.x
        free = self.free()
        self.lb[free[np.abs(x[free] - 1.0) <= TOL]] = 1.0
        while _fractional(x, self.free()).size:
            r = self.round_(x)
            cols, values = r.batch()
            saved_lb, saved_ub = self.lb[cols].copy(), self.ub[cols].copy()
            self.lb[cols] = self.ub[cols] = values
            fixed = self.solve()
            off = r.off
            if fixed is None:
                if self.out_of_budget():
                    return None
                # Infeasible: the round undone, its first binary fixed the other way.
                self.lb[cols], self.ub[cols] = saved_lb, saved_ub
                self.lb[cols[0]] = self.ub[cols[0]] = 1.0 - values[0]
                fixed = self.solve()
                if fixed is None:
                    return None
                off = []
            assert fixed.x is not None
            starved = [(p, frac) for p, frac in off
                       if p.shortfall is not None and fixed.x[p.shortfall] > x[p.shortfall] + TOL]
            if starved:
                # Off left the car short: its most used slot goes on, the others open again.
                tops = np.array([frac[np.argmax(x[frac])] for _, frac in starved], dtype=np.int64)
                opened = np.concatenate([frac for _, frac in starved])
                self.ub[opened] = 1.0
                self.lb[tops] = 1.0
                again = self.solve()
                if again is None:
                    self.lb[tops] = 0.0
                    self.ub[opened] = 0.0
                else:
                    fixed = again
            assert fixed.x is not None
            result, x = fixed, fixed.x
        return Dived(x, result.fun, self.lps)


def dive(model: PlanModel, session: LpSession, lb: FloatArray, ub: FloatArray, deadline: float) -> Dived | None:
    """An integral schedule within the bounds lb/ub (see the module), or None where the
    dive ran out of time or LPs (MAX_LPS) or into an infeasible corner. deadline: a
    perf_counter reading (the dive takes at most TIME_SHARE of what is left)."""
    now = perf_counter()
    return _Dive(model, session, lb, ub, now + TIME_SHARE * max(0.0, deadline - now)).run()
