"""Soft early deadlines: the energy a car should have if its driver leaves before the
departure given (CarInput.early_deadlines).

Per deadline k of car c, over every pair of the car and each slot that starts before
the deadline (the slot that spans it by the share of its window before it):

    eta * sum(share * e) + short_k >= min(energy_k, cap),   short_k >= 0 at penalty_k

so a kWh the plan delivers after deadline k costs penalty_k on top of its price: with
penalties that grow with the chance of the driver being gone by then, the plan charges
what an early departure would miss when that chance outweighs the cheaper slot later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartload.planner.cars import CarNeed, slot_bounds_h
from smartload.planner.devices import PairVars
from smartload.planner.inputs import PlannerInput
from smartload.planner.lp import FloatArray, LinearProgram


@dataclass(frozen=True)
class EarlyVars:
    """One early deadline's row: its shortfall variable, the energy it asks for, and per
    pair of the car (index into the model's pairs) the share of each of its slots' energy
    that counts as before the deadline."""

    car: int
    shortfall: int
    energy_kwh: float
    shares: tuple[tuple[int, FloatArray], ...]

    def delivered_kwh(self, eta: float, energy: list[FloatArray]) -> float:
        """Energy into the battery before the deadline, from each pair's slot energies."""
        return eta * sum(float(share @ energy[p]) for p, share in self.shares)


def add_early_deadlines(lp: LinearProgram, inputs: PlannerInput, needs: list[CarNeed],
                        pair_vars: list[PairVars]) -> tuple[EarlyVars, ...]:
    if not any(car.early_deadlines for car in inputs.cars):
        return ()
    starts_h, ends_h = slot_bounds_h(inputs)
    by_car: dict[int, list[int]] = {}
    for p, pv in enumerate(pair_vars):
        by_car.setdefault(pv.pair.car, []).append(p)
    result: list[EarlyVars] = []
    for c, car in enumerate(inputs.cars):
        mine = by_car.get(c, [])
        for deadline in car.early_deadlines:
            energy = min(deadline.energy_kwh, needs[c].need_kwh)
            at_h = (deadline.at - inputs.now).total_seconds() / 3600.0
            if not mine or energy <= 0 or at_h <= 0 or deadline.penalty_eur_per_kwh <= 0:
                continue
            shares = []
            for p in mine:
                slots = pair_vars[p].pair.slots
                span = ends_h[slots] - starts_h[slots]
                share = np.clip((at_h - starts_h[slots]) / span, 0.0, 1.0)
                shares.append((p, share))
            short = lp.add_vars(1, 0.0, energy, deadline.penalty_eur_per_kwh)
            cols = np.concatenate([pair_vars[p].energy for p, _ in shares] + [short])
            vals = np.concatenate([car.charge_efficiency * share for _, share in shares] + [np.ones(1)])
            keep = vals > 0
            lp.add_rows(1, np.zeros(int(keep.sum())), cols[keep], vals[keep], energy, np.inf)
            result.append(EarlyVars(c, int(short[0]), energy, tuple(shares)))
    return tuple(result)
