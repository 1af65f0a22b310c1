"""What each car needs and where and when it can charge, derived from the inputs.

A *pair* is a (car, wallbox) combination with the slots in which the car can be there:
from now at the wallbox it is plugged into, from available_from at the others it may be
moved to, and never after its departure. A slot that the window cuts (a departure at
07:05) allows only the energy of the part inside the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from smartload.planner.inputs import CarInput, PlannerInput, PlannerSettings, WallboxInput
from smartload.planner.lp import FloatArray, IntArray


@dataclass(frozen=True)
class Pair:
    car: int
    wallbox: int
    slots: IntArray
    e_min_kwh: FloatArray
    e_max_kwh: FloatArray
    plugged_now: bool


@dataclass(frozen=True)
class CarNeed:
    """Energies into the car's battery (kWh).

    required_kwh must be there by the horizon's end (all of need_kwh when the car leaves
    within the horizon; what full power after the horizon cannot add otherwise). Energy
    between required and need is welcome when cheap. cap_kwh may exceed need_kwh by less
    than one slot at minimum power, so that a remaining need smaller than that can still be
    charged at the wallbox minimum (the car stops at its limit within the slot).
    """

    need_kwh: float
    required_kwh: float
    cap_kwh: float
    weight: float
    departs_in_horizon: bool


def min_power_w(car: CarInput, box: WallboxInput) -> float:
    """The least power the car draws at this wallbox when it charges at all: the wallbox
    minimum current on the phases the car uses. A car whose maximum is below what the
    wallbox gives on all its phases charges on fewer (3,680 W at 16 A: one phase, so
    1,380 W at 6 A); capped at the car's maximum."""
    per_phase_max = box.max_current_a * box.voltage_v
    used = math.ceil(car.max_charge_w / per_phase_max - 1e-9) if per_phase_max > 0 else box.phases
    phases = min(box.phases, max(1, used))
    return min(box.min_current_a * phases * box.voltage_v, car.max_charge_w, box.max_power_w)


def _window(
    car: CarInput, wallbox_id: int, inputs: PlannerInput, bounds_h: tuple[FloatArray, FloatArray]
) -> tuple[IntArray, FloatArray]:
    """bounds_h: each slot's start and end in hours from inputs.now (slot_bounds_h)."""
    begin = inputs.now
    if wallbox_id != car.wallbox_id and car.available_from is not None:
        begin = max(begin, car.available_from)
    offset = (begin - inputs.now).total_seconds() / 3600.0
    starts, ends = bounds_h[0] - offset, bounds_h[1] - offset
    lo = np.maximum(starts, 0.0)
    hi = ends
    if car.departure is not None:
        hi = np.minimum(hi, (car.departure - begin).total_seconds() / 3600.0)
    hours = hi - lo
    # Under a second of availability is noise, not a charging opportunity.
    keep = np.flatnonzero(hours > 1.0 / 3600.0)
    return keep.astype(np.int64), hours[keep]


def slot_bounds_h(inputs: PlannerInput) -> tuple[FloatArray, FloatArray]:
    """Each slot's start and end in hours from inputs.now, computed once for all pairs."""
    starts = np.array([(s.start - inputs.now).total_seconds() for s in inputs.slots]) / 3600.0
    ends = np.array([(s.end - inputs.now).total_seconds() for s in inputs.slots]) / 3600.0
    return starts, ends


def car_pairs(inputs: PlannerInput, settings: PlannerSettings, needs: list[CarNeed]) -> list[Pair]:
    pairs: list[Pair] = []
    index = {w.id: i for i, w in enumerate(inputs.wallboxes)}
    bounds_h = slot_bounds_h(inputs)
    for c, car in enumerate(inputs.cars):
        if needs[c].cap_kwh <= 0:
            continue
        for wallbox_id in car.wallbox_ids:
            box = inputs.wallboxes[index[wallbox_id]]
            p_max = min(car.max_charge_w, box.max_power_w)
            if p_max <= 0:
                continue
            p_min = min_power_w(car, box) if settings.semi_continuous else 0.0
            slots, hours = _window(car, wallbox_id, inputs, bounds_h)
            if slots.size == 0:
                continue
            pairs.append(
                Pair(
                    car=c,
                    wallbox=index[wallbox_id],
                    slots=slots,
                    e_min_kwh=p_min * hours / 1000.0,
                    e_max_kwh=p_max * hours / 1000.0,
                    plugged_now=wallbox_id == car.wallbox_id and slots[0] == 0,
                )
            )
    return pairs


def car_needs(inputs: PlannerInput, settings: PlannerSettings) -> list[CarNeed]:
    horizon_end = inputs.slots[-1].end
    longest_h = max(s.duration_h for s in inputs.slots)
    needs: list[CarNeed] = []
    by_id = {w.id: w for w in inputs.wallboxes}
    for c, car in enumerate(inputs.cars):
        need = car.need_kwh
        boxes = [by_id[w] for w in car.wallbox_ids]
        p_max = max((min(car.max_charge_w, b.max_power_w) for b in boxes), default=0.0)
        p_min = max((min_power_w(car, b) for b in boxes), default=0.0)
        in_horizon = car.departure is not None and car.departure <= horizon_end
        if car.departure is None:
            required = 0.0
        elif in_horizon:
            required = need
        else:
            after_h = (car.departure - horizon_end).total_seconds() / 3600.0
            required = max(0.0, need - car.charge_efficiency * p_max / 1000.0 * after_h)
        min_slot = car.charge_efficiency * p_min / 1000.0 * longest_h if settings.semi_continuous else 0.0
        cap = max(need, min_slot) if need > 0 else 0.0
        # A vanishing per-car term makes equal-priority shortfalls split deterministically.
        weight = (1.0 + car.priority) * (1.0 + 1e-6 * c)
        if car.arrival_probability is not None:  # a car on the road: its need counts as likely as it comes
            weight *= car.arrival_probability
        needs.append(CarNeed(need, required, cap, weight, in_horizon))
    return needs
