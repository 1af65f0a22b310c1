"""Turn the LP relaxation (or nothing at all) into a schedule that meets every constraint.

The relaxation may share a wallbox between cars, charge below the wallbox minimum and
charge and discharge the battery at once. In order:

1. one wallbox per car and one car per wallbox in each slot: keep the largest energy;
2. semi-continuous rounding: below half the minimum -> 0, else at least the minimum;
3. no car beyond its cap: trim the latest energy that would overfill it;
4. the battery: net charge against discharge, keeping the SoC path (so its bounds hold);
5. the grid takes the difference (import or export, never both), and where the import
   limit is exceeded the lowest-priority cars give way, down to their minimum, then to 0.
"""

from __future__ import annotations

import numpy as np

from smartload.sinks.planner.lp import FloatArray
from smartload.sinks.planner.model import PlanModel
from smartload.sinks.planner.schedule import EPS_KWH, Schedule, from_vector


def _limits(model: PlanModel) -> tuple[FloatArray, FloatArray]:
    shape = (len(model.inputs.cars), len(model.inputs.wallboxes), model.duration_h.size)
    e_min, e_max = np.zeros(shape), np.zeros(shape)
    for pv in model.pairs:
        e_min[pv.pair.car, pv.pair.wallbox, pv.pair.slots] = pv.pair.e_min_kwh
        e_max[pv.pair.car, pv.pair.wallbox, pv.pair.slots] = pv.pair.e_max_kwh
    return e_min, e_max


def _keep_largest(cars: FloatArray, axis: int) -> FloatArray:
    best = np.expand_dims(cars.argmax(axis=axis), axis)
    kept = np.zeros_like(cars)
    np.put_along_axis(kept, best, np.take_along_axis(cars, best, axis), axis)
    return kept


def _round(cars: FloatArray, e_min: FloatArray, e_max: FloatArray) -> FloatArray:
    off = (cars < e_min / 2) | (cars < EPS_KWH)
    return np.where(off, 0.0, np.clip(cars, e_min, e_max))


def _cap(model: PlanModel, cars: FloatArray, e_min: FloatArray) -> FloatArray:
    cars = cars.copy()
    for c, cv in enumerate(model.cars):
        eta = model.inputs.cars[c].charge_efficiency
        room = cv.need.cap_kwh / eta
        for w, t in sorted(zip(*np.nonzero(cars[c] > 0), strict=True), key=lambda wt: wt[1]):
            if cars[c, w, t] > room + EPS_KWH:
                # Round-off may leave the room a hair under the minimum: that is still the minimum.
                cars[c, w, t] = room if room >= e_min[c, w, t] - EPS_KWH and room > EPS_KWH else 0.0
            room -= cars[c, w, t]
    return cars


def _net_battery(model: PlanModel, schedule: Schedule) -> tuple[FloatArray, FloatArray, FloatArray]:
    bat = model.battery
    if bat is None:
        zeros = np.zeros(model.duration_h.size)
        return zeros, zeros, zeros
    delta = bat.eta_c * schedule.charge_kwh - schedule.discharge_kwh / bat.eta_d
    charge = np.where(delta > 0, delta / bat.eta_c, 0.0)
    discharge = np.where(delta < 0, -delta * bat.eta_d, 0.0)
    soc = bat.soc0_kwh + np.cumsum(bat.eta_c * charge - discharge / bat.eta_d)
    return charge, discharge, soc


def _respect_limit(model: PlanModel, cars: FloatArray, e_min: FloatArray, net: FloatArray) -> FloatArray:
    if model.limit_kwh is None:
        return cars
    cars = cars.copy()
    weights = [cv.need.weight for cv in model.cars]
    for t in np.flatnonzero(net > model.limit_kwh + EPS_KWH):
        excess = net[t] - model.limit_kwh[t]
        charging = sorted(zip(*np.nonzero(cars[:, :, t] > 0), strict=True), key=lambda cw: weights[cw[0]])
        for c, w in charging:
            cut = min(excess, cars[c, w, t] - e_min[c, w, t])
            cars[c, w, t] -= cut
            excess -= cut
        for c, w in charging:
            if excess <= EPS_KWH:
                break
            excess -= cars[c, w, t]
            cars[c, w, t] = 0.0
    return cars


def repair(model: PlanModel, relaxed: FloatArray | None) -> Schedule:
    """A feasible schedule close to the relaxed solution (None: nothing charges)."""
    n = model.duration_h.size
    shape = (len(model.inputs.cars), len(model.inputs.wallboxes), n)
    if relaxed is None:
        zeros = np.zeros(n)
        soc0 = model.battery.soc0_kwh if model.battery else 0.0
        base = Schedule(zeros, zeros, zeros, zeros, np.full(n, soc0), np.zeros(shape), zeros)
    else:
        base = from_vector(model, relaxed)
    e_min, e_max = _limits(model)
    cars = _keep_largest(_keep_largest(base.car_kwh, axis=1), axis=0)
    cars = _cap(model, _round(cars, e_min, e_max), e_min)
    charge, discharge, soc = _net_battery(model, base)
    fixed = model.house_kwh - model.pv_kwh + charge - discharge
    cars = _respect_limit(model, cars, e_min, fixed + cars.sum(axis=(0, 1)))
    net = fixed + cars.sum(axis=(0, 1))
    imp = np.maximum(net, 0.0)
    overload = np.zeros(n)
    if model.limit_kwh is not None:
        overload = np.maximum(0.0, imp - model.limit_kwh)
    return Schedule(imp, np.maximum(-net, 0.0), charge, discharge, soc, cars, overload)
