"""Arrival order: the schedule a fallback charges, and the plug-in plan of a fleet.

arrival_order charges as a depot without a planner would: each free wallbox takes the
car that arrived first among those waiting for it (a car plugged in now stays where it
is), the car charges at full power up to its need, within what the grid limit leaves
after the house (the home battery idle), and leaves the wallbox once full or gone. It is
the planner's last resort (repair without a relaxation), so a fallback never charges
nothing where cars are waiting.

A fleet (many cars, each free to take any of many wallboxes) makes the full model too
large to build and solve in the time limit (100 cars on 54 wallboxes: 5,400 pairs,
0.8 M variables, 3 s to build alone). Above FLEET_PAIR_SLOTS pair-slots the planner keeps
the arrival-order plug-ins (which car at which wallbox from when) and plans only the
charging: each car keeps its wallbox from its plug-in until the next car takes it there
(or it leaves), so the MILP is one pair per car and still moves charging to the cheap
slots of that stay. Its bound is not a bound of the full model: such a plan is at best
"feasible", with no gap reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smartload.planner.cars import CarNeed, Pair
from smartload.planner.inputs import PlannerInput
from smartload.planner.lp import FloatArray
from smartload.planner.schedule import EPS_KWH

# Pairs x slots in their windows above which the full model is not built (the 30-car
# benchmark has under 3,000; the 54-wallbox / 100-car fleet over 200,000).
FLEET_PAIR_SLOTS = 20_000


@dataclass(frozen=True)
class Stay:
    """Car c plugged in at wallbox w (indices) for slots t0 .. t1 - 1."""

    car: int
    wallbox: int
    t0: int
    t1: int


def is_fleet(pairs: list[Pair]) -> bool:
    return sum(p.slots.size for p in pairs) > FLEET_PAIR_SLOTS


def arrival_order(inputs: PlannerInput, needs: list[CarNeed], e_min: FloatArray, e_max: FloatArray,
                  room_kwh: FloatArray) -> tuple[FloatArray, list[Stay]]:
    """Energies [car, wallbox, slot] (AC kWh) charged in arrival order, and the stays.

    e_min / e_max: per (car, wallbox, slot) the least and most energy when charging (0
    where the car cannot be there); room_kwh: per slot, what the grid limit leaves for
    the cars (inf: no limit)."""
    n_cars, n_boxes, n = e_max.shape
    usable: npt.NDArray[np.bool_] = e_max > 0
    eta = np.array([car.charge_efficiency for car in inputs.cars])
    left = np.array([min(nd.need_kwh, nd.cap_kwh) for nd in needs]).reshape(-1) / np.maximum(eta, EPS_KWH)
    cap_left = np.array([nd.cap_kwh for nd in needs]).reshape(-1) / np.maximum(eta, EPS_KWH)
    any_slot: npt.NDArray[np.bool_] = np.any(usable, axis=1)
    arrival = np.where(np.any(any_slot, axis=1), np.argmax(any_slot, axis=1), n)
    index = {box.id: w for w, box in enumerate(inputs.wallboxes)}
    occupant = np.full(n_boxes, -1)
    location = np.full(n_cars, -1)
    since = np.zeros(n_cars, dtype=np.int64)
    for c, car in enumerate(inputs.cars):
        w = index.get(car.wallbox_id, -1) if car.wallbox_id is not None else -1
        if w >= 0 and usable[c, w, 0] and occupant[w] < 0:
            occupant[w], location[c] = c, w
    finished = left <= EPS_KWH
    order = sorted(range(n_cars), key=lambda c: (int(arrival[c]), location[c] < 0, c))
    cars = np.zeros_like(e_max)
    stays: list[Stay] = []
    for t in range(n):
        for w_ in np.flatnonzero(occupant >= 0):
            w = int(w_)
            c = int(occupant[w])
            if finished[c] or not usable[c, w, t]:
                finished[c] = True  # one stay per car: full, or gone
                if t > since[c]:
                    stays.append(Stay(c, w, int(since[c]), t))
                occupant[w], location[c] = -1, -1
        free = occupant < 0
        if free.any():
            for c in order:
                if arrival[c] > t:
                    break
                if finished[c] or location[c] >= 0:
                    continue
                boxes = np.flatnonzero(free & usable[c, :, t])
                if boxes.size:
                    w = int(boxes[0])
                    occupant[w], location[c], since[c] = c, w, t
                    free[w] = False
                    if not free.any():
                        break
        room = float(room_kwh[t])
        for c in order:
            w = int(location[c])
            if w < 0:
                continue
            lo, hi = e_min[c, w, t], e_max[c, w, t]
            want = min(hi, left[c])
            if want < lo:
                want = lo if lo <= cap_left[c] + EPS_KWH else 0.0
            if want > room:
                want = room if room >= lo else 0.0
            cars[c, w, t] = want
            left[c] -= want
            cap_left[c] -= want
            room -= want
            if left[c] <= EPS_KWH or (left[c] < lo and lo > cap_left[c] + EPS_KWH):
                finished[c] = True  # full, or the rest is below the minimum and over the cap
    for w_ in np.flatnonzero(occupant >= 0):
        stays.append(Stay(int(occupant[w_]), int(w_), int(since[int(occupant[w_])]), n))
    return cars, stays


def stay_pairs(pairs: list[Pair], stays: list[Stay], n: int) -> list[Pair]:
    """The pairs of the stays, each window from the plug-in until the next car's at that
    wallbox (or the end of the car's own window there)."""
    by_key = {(p.car, p.wallbox): p for p in pairs}
    starts: dict[int, list[int]] = {}
    for s in stays:
        starts.setdefault(s.wallbox, []).append(s.t0)
    result: list[Pair] = []
    for s in sorted(stays, key=lambda s: (s.car, s.wallbox)):
        pair = by_key[(s.car, s.wallbox)]
        later = [t for t in starts[s.wallbox] if t > s.t0]
        end = min(later, default=n)
        keep = (pair.slots >= s.t0) & (pair.slots < end)
        if not keep.any():
            continue
        result.append(Pair(pair.car, pair.wallbox, pair.slots[keep], pair.e_min_kwh[keep], pair.e_max_kwh[keep],
                           pair.plugged_now and s.t0 == 0))
    return result


def dense_bounds(pairs: list[Pair], n_cars: int, n_boxes: int, n: int) -> tuple[FloatArray, FloatArray]:
    """e_min, e_max per (car, wallbox, slot) from the pairs (0 where there is none)."""
    e_min = np.zeros((n_cars, n_boxes, n))
    e_max = np.zeros((n_cars, n_boxes, n))
    for p in pairs:
        e_min[p.car, p.wallbox, p.slots] = p.e_min_kwh
        e_max[p.car, p.wallbox, p.slots] = p.e_max_kwh
    return e_min, e_max
