"""Short reasons a person understands, for each slot and device, read off a solved schedule.

The reasons describe what the schedule does and the price facts that make it sensible;
they do not re-solve anything. Times are shown in the site's timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from smartload.planner.devices import PairVars
from smartload.planner.lp import FloatArray
from smartload.planner.model import PlanModel
from smartload.planner.plan import BATTERY
from smartload.planner.schedule import EPS_KWH, Schedule

_NEAR = 1e-4  # kWh: "at a bound" tolerance for reasons only


@dataclass(frozen=True)
class Reasons:
    slots: list[dict[str, str]]
    cars: dict[str, str]


def _eur(value: float) -> str:
    return f"{value:.2f} EUR/kWh" if abs(value) >= 0.01 or value == 0 else f"{value:.3f} EUR/kWh"


class _Clock:
    def __init__(self, now: datetime, tz: str) -> None:
        self.zone = ZoneInfo(tz)
        self.now = now.astimezone(self.zone)
        self._shown: dict[datetime, str] = {}  # the same departures and peaks recur per slot

    def __call__(self, at: datetime) -> str:
        shown = self._shown.get(at)
        if shown is None:
            local = at.astimezone(self.zone)
            shown = local.strftime("%a %H:%M" if local - self.now >= timedelta(hours=20) else "%H:%M")
            self._shown[at] = shown
        return shown


def _car_reasons(model: PlanModel, s: Schedule, added: FloatArray, c: int, clock: _Clock,
                 mine: list[PairVars], occupants: list[dict[str, int]]) -> list[str]:
    """mine: the car's pairs; occupants: per slot, the wallbox of each charging car.
    Read from plain lists and per-car precomputations, not numpy per slot: 96 slots x
    cars of reasons are most of a plan's assembly."""
    car = model.inputs.cars[c]
    need = model.cars[c].need
    slots = model.inputs.slots
    n = len(slots)
    energy_a = s.car_kwh[c].sum(axis=0)
    boxes = model.inputs.wallboxes
    window_a = np.zeros(n, dtype=bool)
    e_max_a = np.zeros(n)
    my_boxes = {pv.pair.wallbox for pv in mine}
    for pv in mine:
        window_a[pv.pair.slots] = True
        np.maximum.at(e_max_a, pv.pair.slots, pv.pair.e_max_kwh)
    short = max(0.0, need.required_kwh - added[-1]) if n else 0.0
    leaves = clock(car.departure) if car.departure is not None and need.departs_in_horizon else None
    by = f" by {leaves}" if leaves else ""
    before = f" before {leaves}" if leaves else ""
    # A slot with room left in the window is "cheaper" than t where its price is below t's.
    room = window_a & (energy_a < e_max_a - _NEAR)
    cheapest_with_room = float(model.import_price[room].min()) if room.any() else np.inf
    # Per slot: the first slot of the window from it on (n: none), and whether the car charges from it on.
    next_window = np.full(n + 1, n)
    charges_later = np.zeros(n + 1, dtype=bool)
    for t in range(n - 1, -1, -1):
        next_window[t] = t if window_a[t] else next_window[t + 1]
        charges_later[t] = energy_a[t] > 0 or charges_later[t + 1]
    energy, e_max, window = energy_a.tolist(), e_max_a.tolist(), window_a.tolist()
    prices = model.import_price.tolist()
    surplus_l = (model.pv_kwh - model.house_kwh).tolist()
    imports, discharges, added_l = s.import_kwh.tolist(), s.discharge_kwh.tolist(), added.tolist()
    out: list[str] = []
    for t in range(n):
        price = prices[t]
        if energy[t] > 0:
            surplus = surplus_l[t]
            if price < 0:
                out.append(f"negative price ({_eur(price)}): charging is paid")
            elif imports[t] <= EPS_KWH and surplus >= energy[t] - _NEAR:
                out.append("PV surplus")
            elif imports[t] <= EPS_KWH and discharges[t] > 0:
                out.append("from the home battery")
            elif short > _NEAR and energy[t] >= e_max[t] - _NEAR:
                out.append(f"full power: target cannot be reached{by}: {short:.1f} kWh short")
            elif surplus > _NEAR:
                out.append(f"PV surplus topped up from the grid at {_eur(price)}")
            elif not need.departs_in_horizon and added_l[t] > need.required_kwh + _NEAR:
                out.append(f"cheap slot ({_eur(price)}); the car leaves after the known prices")
            elif cheapest_with_room < price:
                out.append(f"needed{by} at {_eur(price)}: cheaper slots are full or taken")
            else:
                out.append(f"cheapest slots{before} ({_eur(price)})")
            continue
        so_far = added_l[t - 1] if t else 0.0
        if car.departure is not None and slots[t].start >= car.departure:
            out.append(f"left at {clock(car.departure)}")
        elif need.need_kwh <= EPS_KWH:
            out.append("no charge needed")
        elif so_far >= min(need.need_kwh, need.cap_kwh) - _NEAR:
            out.append("target reached")
        elif not window[t]:
            later = int(next_window[t])
            out.append(f"can charge from {clock(slots[later].start)}" if later < n
                       else "no wallbox available before departure")
        else:
            busy = [name for name, w in occupants[t].items() if name != car.name and w in my_boxes]
            if busy:
                out.append(f"wallbox {boxes[occupants[t][busy[0]]].id} in use by {busy[0]}")
            elif charges_later[t]:
                out.append(f"waiting for cheaper slots{before}")
            else:
                out.append("waiting: no cheaper slot worth charging in the known prices")
    return out


def _occupants(model: PlanModel, s: Schedule) -> list[dict[str, int]]:
    """Per slot: the wallbox of each charging car, in the order of the cars."""
    n = model.duration_h.size
    result: list[dict[str, int]] = [{} for _ in range(n)]
    names = [car.name for car in model.inputs.cars]
    cars, boxes, slots = np.nonzero(s.car_kwh > 0)
    for t, c, w in sorted(zip(slots.tolist(), cars.tolist(), boxes.tolist(), strict=True)):
        result[t][names[c]] = w
    return result


def _battery_reasons(model: PlanModel, s: Schedule, clock: _Clock, occupants: list[dict[str, int]]) -> list[str]:
    bat = model.battery
    assert bat is not None
    slots = model.inputs.slots
    n = len(slots)
    prices = model.import_price.tolist()
    # Per slot: the dearest later slot where the battery discharges (the first of equals; -1: none).
    peak_after = [-1] * n
    best = -1
    for t in range(n - 2, -1, -1):
        if s.discharge_kwh[t + 1] > 0 and (best < 0 or prices[t + 1] >= prices[best]):
            best = t + 1
        peak_after[t] = best
    charge, discharge, soc = s.charge_kwh.tolist(), s.discharge_kwh.tolist(), s.soc_kwh.tolist()
    imports, exports = s.import_kwh.tolist(), s.export_kwh.tolist()
    surplus_l = (model.pv_kwh - model.house_kwh).tolist()
    out: list[str] = []
    for t in range(n):
        price = prices[t]
        peak = f"the {clock(slots[peak_after[t]].start)} peak" if peak_after[t] >= 0 else ""
        if charge[t] > 0:
            if price < 0:
                out.append(f"negative price ({_eur(price)}): charging is paid")
            elif imports[t] <= EPS_KWH or surplus_l[t] >= charge[t] - _NEAR:
                out.append("storing PV surplus")
            elif peak:
                out.append(f"charging from the grid at {_eur(price)} to discharge at {peak}")
            else:
                out.append(f"charging from the grid at {_eur(price)}: worth more after the known prices")
        elif discharge[t] > 0:
            charging = list(occupants[t])
            who = "the house" + (" and " + ", ".join(charging) if charging else "")
            if exports[t] > 0:
                out.append(f"exporting at {_eur(float(model.export_price[t]))}")
            else:
                out.append(f"covering {who} at {_eur(price)}")
        elif soc[t] <= bat.soc_lo_kwh + _NEAR:
            out.append("at its minimum SoC")
        elif peak:
            out.append(f"battery kept for {peak}")
        elif soc[t] >= bat.soc_hi_kwh - _NEAR:
            out.append("full")
        else:
            out.append("idle: no price spread worth the losses and wear")
    return out


def _car_summary(model: PlanModel, c: int, added: float, charged: float, cost: float, clock: _Clock) -> str:
    car = model.inputs.cars[c]
    need = model.cars[c].need
    by = f" by {clock(car.departure)}" if car.departure is not None else ""
    short = max(0.0, need.required_kwh - added)
    if need.need_kwh <= EPS_KWH:
        return "no charge needed"
    if short > _NEAR:
        return f"target cannot be reached{by}: {short:.1f} kWh short"
    if not need.departs_in_horizon:
        rest = max(0.0, need.need_kwh - added)
        tail = f", {rest:.1f} kWh after the known prices" if rest > _NEAR else ""
        return f"{added:.1f} kWh now for {cost:.2f} EUR{tail}"
    return f"target{by}: {charged:.1f} kWh for {cost:.2f} EUR"


def explain(model: PlanModel, schedule: Schedule, added: FloatArray, charged: FloatArray,
            cost: FloatArray) -> Reasons:
    """added[c, t]: kWh into car c's battery up to the end of slot t."""
    clock = _Clock(model.inputs.now, model.settings.timezone)
    n = model.duration_h.size
    slots: list[dict[str, str]] = [{} for _ in range(n)]
    occupants = _occupants(model, schedule)
    if model.battery is not None:
        for t, text in enumerate(_battery_reasons(model, schedule, clock, occupants)):
            slots[t][BATTERY] = text
    cars: dict[str, str] = {}
    by_car: list[list[PairVars]] = [[] for _ in model.inputs.cars]
    for pv in model.pairs:
        by_car[pv.pair.car].append(pv)
    for c, car in enumerate(model.inputs.cars):
        for t, text in enumerate(_car_reasons(model, schedule, added[c], c, clock, by_car[c], occupants)):
            slots[t][car.name] = text
        total = float(added[c, -1]) if n else 0.0
        cars[car.name] = _car_summary(model, c, total, float(charged[c]), float(cost[c]), clock)
    return Reasons(slots, cars)
