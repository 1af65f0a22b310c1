"""Turn the LP relaxation (or nothing at all) into a schedule that meets every constraint.

The relaxation may share a wallbox between cars, charge below the wallbox minimum and
charge and discharge the battery at once. In order:

1. one wallbox per car and one car per wallbox in each slot: keep the largest energy;
2. semi-continuous rounding: below half the minimum -> 0, else at least the minimum;
3. no car beyond its cap: trim the latest energy that would overfill it;
4. the battery: net charge against discharge, keeping the SoC path (so its bounds hold);
   then no discharge beyond what the site draws (evcc cannot make a battery feed the
   grid): the energy kept is discharged where the site next draws more, or charged less;
5. the grid takes the difference (import or export, never both), and where the import
   limit is exceeded the lowest-priority cars give way, down to their minimum, then to 0.
"""

from __future__ import annotations

import numpy as np

from smartload.planner.fleet import arrival_order
from smartload.planner.lp import FloatArray
from smartload.planner.model import PlanModel
from smartload.planner.schedule import EPS_KWH, Schedule, from_vector, net_battery, net_flows


def _keep_largest(cars: FloatArray, axis: int) -> FloatArray:
    if cars.size == 0:
        return cars
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


def _no_battery_export(model: PlanModel, cars: FloatArray, charge: FloatArray, discharge: FloatArray,
                       soc: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The battery discharging no more than the site draws in each slot (the relaxation's
    discharge may have served a car the rounding switched off). The energy so kept in the
    battery first replaces later charging, then covers later draws, so the SoC never
    rises above the path it had (its bounds hold)."""
    bat = model.battery
    if bat is None:
        return charge, discharge, soc
    charge, discharge = charge.copy(), discharge.copy()
    draw = model.house_kwh - model.pv_kwh + cars.sum(axis=(0, 1))
    kept = 0.0  # kWh in the battery above the relaxation's path
    for t in range(draw.size):
        if kept > EPS_KWH and charge[t] > 0:
            less = min(charge[t], kept / bat.eta_c)
            charge[t] -= less
            kept -= less * bat.eta_c
        room = max(0.0, draw[t] + charge[t])
        if discharge[t] > room + EPS_KWH:
            kept += (discharge[t] - room) / bat.eta_d
            discharge[t] = room
        elif kept > EPS_KWH:
            more = min(kept * bat.eta_d, room - discharge[t], bat.discharge_max_kwh[t] - discharge[t])
            if more > 0:
                discharge[t] += more
                kept -= more / bat.eta_d
    return charge, discharge, bat.soc0_kwh + np.cumsum(bat.eta_c * charge - discharge / bat.eta_d)


def in_arrival_order(model: PlanModel) -> Schedule:
    """The cars charged in arrival order (fleet.arrival_order), the battery idle: what
    the planner falls back on when it has no relaxation to repair."""
    n = model.duration_h.size
    grid = model.car_grid()
    cars, _ = arrival_order(model.inputs, [cv.need for cv in model.cars], grid.e_min_kwh, grid.e_max_kwh,
                            model.room_kwh())
    zeros = np.zeros(n)
    soc0 = model.battery.soc0_kwh if model.battery else 0.0
    return net_flows(model, Schedule(zeros, zeros, zeros, zeros, np.full(n, soc0), cars, zeros))


def repair(model: PlanModel, relaxed: FloatArray | None) -> Schedule:
    """A feasible schedule close to the relaxed solution (None: the cars charged in
    arrival order, in_arrival_order)."""
    if relaxed is None:
        return in_arrival_order(model)
    n = model.duration_h.size
    base = from_vector(model, relaxed)
    grid = model.car_grid()
    e_min, e_max = grid.e_min_kwh, grid.e_max_kwh
    cars = _keep_largest(_keep_largest(base.car_kwh, axis=1), axis=0)
    cars = _cap(model, _round(cars, e_min, e_max), e_min)
    charge, discharge, soc = net_battery(model, base.charge_kwh, base.discharge_kwh)
    fixed = model.house_kwh - model.pv_kwh + charge - discharge
    cars = _respect_limit(model, cars, e_min, fixed + cars.sum(axis=(0, 1)))
    charge, discharge, soc = _no_battery_export(model, cars, charge, discharge, soc)
    zeros = np.zeros(n)
    return net_flows(model, Schedule(zeros, zeros, charge, discharge, soc, cars, zeros))
