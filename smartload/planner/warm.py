"""The previous plan as a start for this one: re-plans every 15 minutes change little.

The plan in force is carried into the new model's slots (each new slot takes the powers
of the old slot holding its middle: the same wallbox, the same power, the battery's
charge and discharge), then made feasible like a relaxation (repair.py: minimum power,
caps, grid limit, the SoC path from the battery's new SoC). The result is a schedule of
the new model, so a MILP can start from it (a MIP start, HiGHS's setSolution) and the
solve can stop at once where it is already within the gap of the relaxation's bound.
Cars and wallboxes are matched by name and id: a car new to the plan starts idle.

Where the carried plan is no further above the new relaxation's bound than the plan was
when the search made it (Plan.search_gap_eur, within KEEP_TOL_EUR), nothing happened that
the search did not already weigh: it is kept with no search (still_settled). At a wallbox
shared by 3 cars, re-planned 15 minutes on, the search took 20-90 ms and up to 1.9 s
where the bound is weak, and found a better plan than the carried one on 1 day in 60, by
0.026 % (scratch runs over the days of planner_solve_time.py and 50 more). A price update,
a car plugging in or a SoC off its path moves the bound or the carried plan's cost apart,
and the search runs. A search that left its plan more than SURE_GAP above the bound is
taken at its word for REFRESH_S only, as such a bound can come within reach. Only a
search that ended on its own counts (settled): one cut short by the time limit (10 cars
at one wallbox) goes on in the next re-plan.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from datetime import datetime
from time import perf_counter
from typing import NamedTuple

import numpy as np

from smartload.planner.lp import FloatArray
from smartload.planner.model import PlanModel
from smartload.planner.plan import Plan
from smartload.planner.repair import repair
from smartload.planner.schedule import Schedule, to_vector

_TOL = 1e-6
# How much further above the bound (EUR) than its search left it a kept plan may lie: the
# carried plan's repair moves it by a few hundredths of a cent (60 days, 3 cars at one
# wallbox: at most +0.0003 EUR). Measured against the search's own gap, not the last
# re-plan's, so it never adds up.
KEEP_TOL_EUR = 0.005
# A search that ends within this share of its time ended before any stage's share of the
# time (the turn orders', solve._ORDERS_SHARE, the least) could have cut it.
SETTLED_SHARE = 0.25
# A search that left its plan within this share of the bound is taken at its word for as
# long as the plan keeps its distance; one further above it (a relaxation made weak by
# turns at a shared wallbox) only for REFRESH_S: once such a turn has passed, the bound
# comes within reach while the kept plan keeps its distance, and only a search finds what
# lies there (3 cars at one wallbox, 2024-03-23: a plan kept 1.4 % above the one a search
# found 30 minutes on). Scratch runs, 3 cars at one wallbox, 70 days re-planned 4 times
# each, kept plans against the search the re-plan would have made: with REFRESH_S 3600,
# 0.41 EUR dearer in all (0.0007-0.16 EUR on 9 re-plans of 280); with 1800, 0.03 EUR (4
# re-plans), while planner_solve_time.py --shared 3 --one-box --days 20 --replan --replans 8
# put the re-plans' p95 at 53 ms against 47.
SURE_GAP = 0.01
REFRESH_S = 1800.0


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


class Searched(NamedTuple):
    """What the search that made the plan in force settled for: how far above its bound
    (EUR) it left the plan, and how long ago (s) it planned."""

    gap_eur: float
    age_s: float


def searched_word(previous: Plan, now: datetime) -> Searched | None:
    """The previous plan's search, as it stands at now; None where it was cut short."""
    if previous.search_gap_eur is None or previous.searched_at is None:
        return None
    return Searched(previous.search_gap_eur, (now - previous.searched_at).total_seconds())


def settled(started: float, deadline: float) -> bool:
    """Whether a solve that began at `started` (perf_counter) and may run to `deadline`
    ended on its own, now: no time limit cut its search short."""
    return perf_counter() - started <= SETTLED_SHARE * (deadline - started)


def still_settled(objective: float, bound: float, searched: Searched | None) -> bool:
    """Whether the previous plan carried over (its objective here) lies no further above
    this model's bound than the search that made it settled for, and that search is
    either sure (within SURE_GAP of its bound) or younger than REFRESH_S."""
    if searched is None or objective - bound > searched.gap_eur + KEEP_TOL_EUR:
        return False
    return searched.gap_eur <= SURE_GAP * abs(objective) or searched.age_s < REFRESH_S
