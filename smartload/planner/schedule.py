"""The physical schedule (energies per slot) and its translation to and from model vectors.

A solver answer is read into a Schedule; the repair works on a Schedule; to_vector turns a
Schedule back into a full model vector (binaries, occupancy, arrivals, shortfalls), so a
repaired plan can be checked against every row of the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartload.planner.lp import FloatArray
from smartload.planner.model import PlanModel

# Below this a solver's value is round-off, not energy (kWh; about 0.004 W over 15 min).
EPS_KWH = 1e-6


@dataclass(frozen=True)
class Schedule:
    """Energies in kWh per slot. car_kwh[c, w, t]: car c at wallbox w in slot t (AC side)."""

    import_kwh: FloatArray
    export_kwh: FloatArray
    charge_kwh: FloatArray
    discharge_kwh: FloatArray
    soc_kwh: FloatArray
    car_kwh: FloatArray
    overload_kwh: FloatArray


def _clean(values: FloatArray) -> FloatArray:
    return np.where(np.abs(values) < EPS_KWH, 0.0, values)


def from_vector(model: PlanModel, x: FloatArray) -> Schedule:
    n = model.duration_h.size
    n_cars, n_boxes = len(model.inputs.cars), len(model.inputs.wallboxes)
    cars = np.zeros((n_cars, n_boxes, n))
    for pv in model.pairs:
        cars[pv.pair.car, pv.pair.wallbox, pv.pair.slots] = x[pv.energy]
    bat = model.battery
    zeros = np.zeros(n)
    return Schedule(
        import_kwh=_clean(x[model.grid_import]),
        export_kwh=_clean(x[model.grid_export]),
        charge_kwh=_clean(x[bat.charge]) if bat else zeros,
        discharge_kwh=_clean(x[bat.discharge]) if bat else zeros,
        soc_kwh=x[bat.soc] if bat else zeros,
        car_kwh=_clean(cars),
        overload_kwh=_clean(x[model.overload]) if model.overload is not None else zeros,
    )


def net_battery(model: PlanModel, charge: FloatArray, discharge: FloatArray
                ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Charge and discharge in one slot netted into one direction with the same SoC path
    (so every SoC bound still holds, and less is lost). Returns charge, discharge, SoC."""
    bat = model.battery
    if bat is None:
        zeros = np.zeros(model.duration_h.size)
        return zeros, zeros, zeros
    delta = bat.eta_c * charge - discharge / bat.eta_d
    charge = np.where(delta > 0, delta / bat.eta_c, 0.0)
    discharge = np.where(delta < 0, -delta * bat.eta_d, 0.0)
    return charge, discharge, bat.soc0_kwh + np.cumsum(bat.eta_c * charge - discharge / bat.eta_d)


def net_flows(model: PlanModel, schedule: Schedule) -> Schedule:
    """The battery netted, then the grid taking what is left: import or export, not both.

    A MILP answer within its gap tolerance (and an LP at its optimality tolerance) may
    carry such pairs where they cost next to nothing; physically they make no sense."""
    charge, discharge, soc = net_battery(model, schedule.charge_kwh, schedule.discharge_kwh)
    net = model.house_kwh - model.pv_kwh + charge - discharge + schedule.car_kwh.sum(axis=(0, 1))
    net = np.where(np.abs(net) < EPS_KWH, 0.0, net)
    imp = np.maximum(net, 0.0)
    overload = np.zeros_like(imp) if model.limit_kwh is None else np.maximum(0.0, imp - model.limit_kwh)
    return Schedule(imp, np.maximum(-net, 0.0), charge, discharge, soc, schedule.car_kwh, overload)


def _occupancy(model: PlanModel, cars: FloatArray) -> dict[tuple[int, int], FloatArray]:
    """Which car is at which wallbox in each slot: a car stays until another takes its place."""
    n = model.duration_h.size
    occupant: dict[int, int] = {}
    location: dict[int, int] = {}
    for c, car in enumerate(model.inputs.cars):
        if car.wallbox_id is not None:
            w = next(i for i, b in enumerate(model.inputs.wallboxes) if b.id == car.wallbox_id)
            occupant[w], location[c] = c, w
    at = {(pv.pair.car, pv.pair.wallbox): np.zeros(n) for pv in model.pairs}
    for t in range(n):
        for c, w in zip(*np.nonzero(cars[:, :, t] > 0), strict=True):
            c, w = int(c), int(w)
            if occupant.get(w) != c:
                if w in occupant:
                    location.pop(occupant[w], None)
                if c in location:
                    occupant.pop(location[c], None)
                occupant[w], location[c] = c, w
        for w, c in occupant.items():
            if (c, w) in at:
                at[(c, w)][t] = 1.0
    return at


def to_vector(model: PlanModel, schedule: Schedule) -> FloatArray:
    x = np.zeros(model.program.cost.size)
    x[model.grid_import] = schedule.import_kwh
    x[model.grid_export] = schedule.export_kwh
    g = model.grid_exclusive_slots
    x[model.grid_exclusive] = (schedule.import_kwh[g] > 0).astype(float)
    x[model.battery_export] = (schedule.export_kwh[model.battery_export_slots] > 0).astype(float)
    if model.overload is not None:
        x[model.overload] = schedule.overload_kwh
    bat = model.battery
    if bat is not None:
        x[bat.charge] = schedule.charge_kwh
        x[bat.discharge] = schedule.discharge_kwh
        x[bat.soc] = schedule.soc_kwh
        x[bat.exclusive] = (schedule.charge_kwh[bat.exclusive_slots] > 0).astype(float)
        s = model.surplus_slots
        x[model.surplus_export] = (schedule.export_kwh[s] > 0).astype(float)
        x[model.surplus_full] = (schedule.soc_kwh[s] >= bat.soc_hi_kwh - 1e-9).astype(float)
        if bat.end_segments is not None:
            x[bat.end_segments] = bat.end_segment_fill(float(schedule.soc_kwh[-1]))
    # Where no wallbox is shared there is no occupancy to fill (and _occupancy loops over slots).
    occupancy = _occupancy(model, schedule.car_kwh) if model.shared else {}
    delivered = np.zeros(len(model.inputs.cars))
    for pv in model.pairs:
        pair = pv.pair
        energy = schedule.car_kwh[pair.car, pair.wallbox, pair.slots]
        x[pv.energy] = energy
        delivered[pair.car] += model.inputs.cars[pair.car].charge_efficiency * energy.sum()
        if pv.on is not None:
            on = (energy > 0).astype(float)
            x[pv.on] = on
            if pv.starts is not None:
                h = pv.starts.size
                before = np.r_[1.0 if model.inputs.cars[pair.car].charging_now else 0.0, on[:h - 1]]
                x[pv.starts] = np.maximum(0.0, on[:h] - before)
        if pv.occupancy is not None and pv.arrival is not None:
            y = occupancy[(pair.car, pair.wallbox)][pair.slots]
            before = np.r_[1.0 if pair.plugged_now else 0.0, y[:-1]]
            x[pv.occupancy] = y
            x[pv.arrival] = np.maximum(0.0, y - before)
    for c, cv in enumerate(model.cars):
        if cv.shortfall is None or cv.wanted is None or cv.overshoot is None:
            continue
        need = cv.need
        extra = max(0.0, delivered[c] - need.required_kwh)
        wanted = min(extra, need.need_kwh - need.required_kwh)
        x[cv.shortfall] = max(0.0, need.required_kwh - delivered[c])
        x[cv.wanted] = wanted
        x[cv.overshoot] = extra - wanted
    energy = [schedule.car_kwh[pv.pair.car, pv.pair.wallbox, pv.pair.slots] for pv in model.pairs]
    for ev in model.early:
        eta = model.inputs.cars[ev.car].charge_efficiency
        x[ev.shortfall] = min(ev.energy_kwh, max(0.0, ev.energy_kwh - ev.delivered_kwh(eta, energy)))
    return x
