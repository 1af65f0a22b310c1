"""The previous plan as a start for this one: re-plans every 15 minutes change little.

The plan in force is carried into the new model's slots (each new slot takes the powers
of the old slot holding its middle: the same wallbox, the same power, the battery's
charge and discharge), then made feasible like a relaxation (repair.py: minimum power,
caps, grid limit, the SoC path from the battery's new SoC). The result is a schedule of
the new model, so a MILP can start from it (a MIP start, HiGHS's setSolution) and the
solve can stop at once where it is already within the gap of the relaxation's bound.
Cars and wallboxes are matched by name and id: a car new to the plan starts idle.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace

import numpy as np

from smartload.planner.lp import FloatArray
from smartload.planner.model import PlanModel
from smartload.planner.plan import Plan
from smartload.planner.repair import repair
from smartload.planner.schedule import Schedule, to_vector

_TOL = 1e-6


def carried(model: PlanModel, previous: Plan) -> Schedule | None:
    """The previous plan's powers in this model's slots (not yet feasible), or None when
    the two share no time."""
    inputs = model.inputs
    old = previous.slots
    if not old or not inputs.slots:
        return None
    starts = [s.start for s in old]
    n = len(inputs.slots)
    dur = model.duration_h
    car_index = {car.name: c for c, car in enumerate(inputs.cars)}
    box_index = {box.id: w for w, box in enumerate(inputs.wallboxes)}
    cars = np.zeros((len(inputs.cars), len(inputs.wallboxes), n))
    charge, discharge = np.zeros(n), np.zeros(n)
    found = False
    for t, slot in enumerate(inputs.slots):
        middle = slot.start + (slot.end - slot.start) / 2
        k = bisect_right(starts, middle) - 1
        if k < 0 or not old[k].contains(middle):
            continue
        found = True
        charge[t] = old[k].battery_charge_w * dur[t] / 1000.0
        discharge[t] = old[k].battery_discharge_w * dur[t] / 1000.0
        for name, car_slot in old[k].cars.items():
            c, w = car_index.get(name), box_index.get(car_slot.wallbox_id) if car_slot.wallbox_id is not None else None
            if c is not None and w is not None and car_slot.power_w > 0:
                cars[c, w, t] = car_slot.power_w * dur[t] / 1000.0
    if not found:
        return None
    zeros = np.zeros(n)
    soc = np.full(n, model.battery.soc0_kwh) if model.battery else zeros
    return Schedule(zeros, zeros, charge, discharge, soc, cars, zeros)


def warm_start(model: PlanModel, previous: Plan | None) -> FloatArray | None:
    """A feasible vector of the model close to the previous plan, or None (no previous
    plan, no common time, or no feasible repair of it)."""
    if previous is None:
        return None
    schedule = carried(model, previous)
    if schedule is None:
        return None
    grid = model.car_grid()
    # Where the car cannot be now (left, another wallbox's pair), the repair must not see it.
    schedule = replace(schedule, car_kwh=np.where(grid.energy >= 0, schedule.car_kwh, 0.0))
    program = model.program
    for battery in (True, False):
        if not battery:  # the old battery path may break the new SoC's bounds: the battery idle instead
            zeros = np.zeros_like(schedule.charge_kwh)
            schedule = replace(schedule, import_kwh=zeros, export_kwh=zeros, charge_kwh=zeros, discharge_kwh=zeros,
                               overload_kwh=zeros)
        x = to_vector(model, repair(model, to_vector(model, schedule)))
        if program.violation(x) <= _TOL:
            return x
    return None
