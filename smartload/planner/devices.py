"""Variable blocks of the planning model: the home battery, each (car, wallbox) pair, cars.

See model.py for the model as a whole. Each function adds its variables and rows to the
LinearProgram in vectorised blocks and returns the indices the rest of the planner reads.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from smartload.planner.cars import CarNeed, Pair
from smartload.planner.inputs import PlannerInput, PlannerSettings
from smartload.planner.lp import FloatArray, IntArray, LinearProgram
from smartload.planner.terminal import AfterHorizon, battery_end_values, car_end_value


@dataclass(frozen=True)
class BatteryVars:
    charge: IntArray
    discharge: IntArray
    soc: IntArray
    exclusive_slots: IntArray
    exclusive: IntArray
    soc0_kwh: float
    soc_lo_kwh: float
    soc_hi_kwh: float
    charge_max_kwh: FloatArray
    discharge_max_kwh: FloatArray
    eta_c: float
    eta_d: float
    # The lowest value of a kWh stored at the end (the only one without end_segments).
    terminal_eur_per_kwh: float
    # The energy stored at the end above soc_lo as segments of decreasing value
    # (planner/terminal.py): columns, their lengths (kWh) and values (EUR/kWh).
    end_segments: IntArray | None = None
    end_segment_kwh: FloatArray | None = None
    end_segment_values: FloatArray | None = None

    def end_segment_fill(self, soc_end_kwh: float) -> FloatArray:
        """The segments a final SoC fills, highest value first (the LP's own choice)."""
        assert self.end_segment_kwh is not None
        before = np.r_[0.0, np.cumsum(self.end_segment_kwh)[:-1]]
        return np.asarray(np.clip(soc_end_kwh - self.soc_lo_kwh - before, 0.0, self.end_segment_kwh), dtype=float)


@dataclass(frozen=True)
class PairVars:
    pair: Pair
    energy: IntArray
    on: IntArray | None
    occupancy: IntArray | None
    arrival: IntArray | None
    starts: IntArray | None = None


@dataclass(frozen=True)
class CarVars:
    need: CarNeed
    shortfall: int | None
    wanted: int | None
    overshoot: int | None
    value_eur_per_kwh: float


def later_minimum(prices: FloatArray) -> FloatArray:
    """Per slot: the lowest of this and every later slot's price."""
    return np.minimum.accumulate(prices[::-1])[::-1]


def add_exclusive(lp: LinearProgram, a: IntArray, b: IntArray, bin_: IntArray,
                  a_max: FloatArray, b_max: FloatArray) -> None:
    """a <= a_max * bin and b <= b_max * (1 - bin): at most one direction per slot."""
    k = bin_.size
    if k == 0:
        return
    r = np.arange(k)
    lp.add_rows(k, np.r_[r, r], np.r_[a, bin_], np.r_[np.ones(k), -a_max], -np.inf, 0.0)
    lp.add_rows(k, np.r_[r, r], np.r_[b, bin_], np.r_[np.ones(k), b_max], -np.inf, b_max)


def add_battery(lp: LinearProgram, inputs: PlannerInput, settings: PlannerSettings, dur: FloatArray,
                p_imp: FloatArray, p_exp: FloatArray, ch_max: FloatArray, dis_max: FloatArray,
                q_price: float, after: AfterHorizon | None = None) -> BatteryVars:
    """after: the expected day after the horizon, which values the energy left at the end
    (planner/terminal.py); None, or a terminal value the battery is given: one value per
    kWh, eta_d x q_price - wear."""
    bat = inputs.battery
    assert bat is not None
    n = dur.size
    tb = settings.tie_break_eur_per_kwh
    wear = bat.wear_eur_per_kwh if bat.wear_eur_per_kwh is not None else settings.battery_wear_eur_per_kwh
    eta_c, eta_d = bat.charge_efficiency, bat.discharge_efficiency
    cap = bat.capacity_kwh
    soc0 = bat.soc_pct / 100.0 * cap
    lo = max(bat.min_soc_pct, bat.reserve_soc_pct) / 100.0 * cap
    hi = bat.max_soc_pct / 100.0 * cap
    # A battery already outside its band may stay there; it is never forced (infeasibly) in.
    lo, hi = min(lo, soc0), max(hi, soc0)
    terminal = bat.terminal_value_eur_per_kwh
    segments = None
    if terminal is None:
        terminal = max(0.0, eta_d * q_price - wear)
        if after is not None and hi > lo:
            # Below this value the battery would rather feed the grid than keep a kWh, which
            # the model forbids by cost alone only above it (model.battery_export_slots).
            floor = (float(np.max(p_exp)) + 2 * wear + 2e-6) / (eta_c * eta_d)
            segments = battery_end_values(after, eta_c, eta_d, wear, hi - lo, bat.allow_grid_charge, terminal,
                                          floor)
            if segments[0].size:
                terminal = float(segments[1][-1])
            else:  # a band too narrow to hold a segment: the flat value
                segments = None
    ch = lp.add_vars(n, 0.0, ch_max, wear + tb)
    dis = lp.add_vars(n, 0.0, dis_max, wear + tb)
    soc_cost = np.zeros(n)
    if segments is None:
        soc_cost[-1] = -terminal
    soc = lp.add_vars(n, lo, hi, soc_cost)
    seg = None
    if segments is not None:
        # sum(segments) <= soc[-1] - lo: the LP fills the most valuable first.
        seg = lp.add_vars(segments[0].size, 0.0, segments[0], -segments[1])
        lp.add_rows(1, np.zeros(seg.size + 1, dtype=np.int64), np.r_[seg, soc[-1:]],
                    np.r_[np.ones(seg.size), -1.0], -np.inf, -lo)
    t = np.arange(n)
    prev = t[1:]
    rows = np.r_[t, prev, t, t]
    cols = np.r_[soc, soc[:-1], ch, dis]
    vals = np.r_[np.ones(n), -np.ones(n - 1), np.full(n, -eta_c), np.full(n, 1.0 / eta_d)]
    rhs = np.zeros(n)
    rhs[0] = soc0
    lp.add_rows(n, rows, cols, vals, rhs, rhs)
    # Cycling in one slot pays only if burning energy earns more than the losses and wear
    # cost: energy is worth less than nothing now, or later, when the room it frees takes
    # energy at a negative price (each kWh burnt frees room for 1 / (eta_c eta_d) kWh
    # more). The battery cannot do it: it charges or discharges.
    later_min = later_minimum(p_imp)
    worst_price = np.minimum(np.minimum(p_imp, p_exp), later_min / (eta_c * eta_d))
    loss = 1.0 - eta_c * eta_d
    gain = -worst_price * loss - wear * (1.0 + eta_c * eta_d) - 2 * tb
    b_slots = np.flatnonzero((gain > 0) & (ch_max > 0) & (dis_max > 0))
    b = lp.add_vars(b_slots.size, 0.0, 1.0, 0.0, integer=True)
    add_exclusive(lp, ch[b_slots], dis[b_slots], b, ch_max[b_slots], dis_max[b_slots])
    return BatteryVars(ch, dis, soc, b_slots, b, soc0, lo, hi, ch_max, dis_max, eta_c, eta_d, terminal, seg,
                       None if segments is None else segments[0], None if segments is None else segments[1])


# How far ahead a plugged car's charging blocks count for hysteresis: what is actuated
# soon; later slots are planned again many times before they come.
HYSTERESIS_SLOTS = 16


def add_pair(lp: LinearProgram, pair: Pair, settings: PlannerSettings, contested: bool,
             max_energy_kwh: float, on_before: float = 0.0) -> PairVars:
    """contested: the pair's wallbox has other candidate cars, or its car other candidate
    wallboxes (counted once for all pairs by the caller: pair_contested).
    on_before: 1 if the car charges at this wallbox when the plan starts (so going on
    charging starts nothing), else 0."""
    k = pair.slots.size
    tb = settings.tie_break_eur_per_kwh
    # Earlier is better at equal price, so flat tariffs have one optimum, not a plateau.
    energy = lp.add_vars(k, 0.0, pair.e_max_kwh, tb * (pair.slots + 1))
    needs_on = contested or bool(np.any(pair.e_min_kwh > 0))
    r = np.arange(k)
    on = occupancy = arrival = None
    starts = None
    if needs_on:
        on = lp.add_vars(k, 0.0, 1.0, 0.0, integer=True)
        lp.add_rows(k, np.r_[r, r], np.r_[energy, on], np.r_[np.ones(k), -pair.e_max_kwh], -np.inf, 0.0)
        if np.any(pair.e_min_kwh > 0):
            lp.add_rows(k, np.r_[r, r], np.r_[energy, on], np.r_[np.ones(k), -pair.e_min_kwh], 0.0, np.inf)
        if settings.switch_penalty_eur > 0 and pair.plugged_now:
            # starts[t] >= on[t] - on[t-1] over the hours ahead of the car plugged in now
            # (the one evcc is told about): each charging block there costs the penalty
            # once, so among slots of near-equal price it charges in one block, and a
            # re-plan keeps the action in force unless a change saves more than that.
            h = min(k, HYSTERESIS_SLOTS)
            q = np.arange(h)
            starts = lp.add_vars(h, 0.0, 1.0, settings.switch_penalty_eur)
            lp.add_rows(h, np.r_[q, q, q[1:]], np.r_[starts, on[:h], on[:h - 1]],
                        np.r_[np.ones(h), -np.ones(h), np.ones(h - 1)], np.r_[-on_before, np.zeros(h - 1)], np.inf)
    if contested:
        assert on is not None
        occupancy = lp.add_vars(k, 0.0, 1.0, 0.0)
        arrival = lp.add_vars(k, 0.0, 1.0, settings.swap_penalty_eur)
        lp.add_rows(k, np.r_[r, r], np.r_[on, occupancy], np.r_[np.ones(k), -np.ones(k)], -np.inf, 0.0)
        # The window is contiguous, so k-1 is the previous slot.
        rows = np.r_[r, r[1:], r]
        cols = np.r_[occupancy, occupancy[:-1], arrival]
        vals = np.r_[np.ones(k), -np.ones(k - 1), -np.ones(k)]
        ub = np.zeros(k)
        ub[0] = 1.0 if pair.plugged_now else 0.0
        lp.add_rows(k, rows, cols, vals, -np.inf, ub)
        # Valid and much tighter in the relaxation: energy at this wallbox needs the car
        # plugged in there (now, or by an arrival), so a car filled there pays a whole swap.
        most = max_energy_kwh
        lp.add_rows(1, np.zeros(2 * k, dtype=np.int64), np.r_[energy, arrival],
                    np.r_[np.ones(k), np.full(k, -most)], -np.inf, most if pair.plugged_now else 0.0)
    return PairVars(pair, energy, on, occupancy, arrival, starts)


def pair_contested(pairs: list[Pair]) -> list[bool]:
    """Per pair: whether its wallbox has several candidate cars or its car several
    candidate wallboxes. One count per wallbox and per car, so linear in the pairs."""
    per_box = Counter(p.wallbox for p in pairs)
    per_car = Counter(p.car for p in pairs)
    return [per_box[p.wallbox] > 1 or per_car[p.car] > 1 for p in pairs]


def add_occupancy_rows(lp: LinearProgram, pair_vars: list[PairVars], n: int) -> None:
    """At most one car per wallbox and one wallbox per car, in every slot."""
    contested = [p for p in pair_vars if p.occupancy is not None]
    if not contested:
        return
    cols = np.concatenate([p.occupancy for p in contested])
    slots = np.concatenate([p.pair.slots for p in contested])
    for key in (np.concatenate([np.full(p.pair.slots.size, p.pair.wallbox) for p in contested]),
                np.concatenate([np.full(p.pair.slots.size, p.pair.car) for p in contested])):
        groups, rows = np.unique(key * n + slots, return_inverse=True)
        counts = np.bincount(rows)
        if counts.max(initial=0) > 1:
            lp.add_rows(groups.size, rows, cols, 1.0, -np.inf, 1.0)


def add_cars(lp: LinearProgram, inputs: PlannerInput, settings: PlannerSettings, needs: list[CarNeed],
             pair_vars: list[PairVars], q_price: float, after: AfterHorizon | None = None) -> list[CarVars]:
    """after: the expected day after the horizon, which values energy a car leaving later
    takes beyond what it must have by the end (planner/terminal.py); None: q_price / eta."""
    result: list[CarVars] = []
    by_car: list[list[PairVars]] = [[] for _ in inputs.cars]
    for p in pair_vars:
        by_car[p.pair.car].append(p)
    for c, car in enumerate(inputs.cars):
        need = needs[c]
        mine = by_car[c]
        if after is None or need.departs_in_horizon:
            value = q_price / car.charge_efficiency
        else:
            value = car_end_value(after, car.departure, car.charge_efficiency)
        if not mine:
            result.append(CarVars(need, None, None, None, value))
            continue
        penalty = settings.shortfall_penalty_eur_per_kwh * need.weight
        short = lp.add_vars(1, 0.0, need.required_kwh, penalty)
        wanted = lp.add_vars(1, 0.0, need.need_kwh - need.required_kwh, -value)
        over = lp.add_vars(1, 0.0, need.cap_kwh - need.need_kwh, 0.0)
        cols = np.concatenate([p.energy for p in mine] + [short, wanted, over])
        vals = np.r_[np.full(cols.size - 3, car.charge_efficiency), 1.0, -1.0, -1.0]
        lp.add_rows(1, np.zeros(cols.size), cols, vals, need.required_kwh, need.required_kwh)
        if settings.mode == "milp" and all(p.occupancy is None for p in mine):
            # For the search only, like model.add_surplus_cuts. Not at shared wallboxes:
            # there the row changed the turns the relaxation suggests, and one of 10 plans
            # for 3 cars at one wallbox came out 1.2 % above the optimum (0.0 % without it).
            add_most_slots_on(lp, mine, need.cap_kwh / car.charge_efficiency)
        result.append(CarVars(need, int(short[0]), int(wanted[0]), int(over[0]), value))
    return result


def add_most_slots_on(lp: LinearProgram, mine: list[PairVars], room_kwh: float) -> None:
    """sum(on) <= floor(room / least minimum) over a car's pairs: each slot on takes at
    least the minimum, and the car takes at most room_kwh (its cap over its efficiency).
    Valid (the rounding of a row the relaxation has), and where a car needs less than a
    few slots at the minimum it keeps the relaxation from adding a trickle at a few
    hundredths on to a slot at the minimum, which would put it on in both (one PV hour
    below the minimum, a cheaper hour after it: the relaxation had the car on in the PV
    hour at its minimum; the neighbourhood fixed it there and the MILP paid 15 % more)."""
    on = [pv.on[pv.pair.e_min_kwh > 0] for pv in mine if pv.on is not None]
    least = min((float(np.min(pv.pair.e_min_kwh[pv.pair.e_min_kwh > 0])) for pv in mine
                 if pv.on is not None and np.any(pv.pair.e_min_kwh > 0)), default=0.0)
    cols = np.concatenate(on) if on else np.zeros(0, dtype=np.int64)
    if least <= 0 or not cols.size:
        return
    most = int(np.floor(room_kwh / least + 1e-9))
    if most < cols.size:
        lp.add_rows(1, np.zeros(cols.size, dtype=np.int64), cols, 1.0, -np.inf, float(most))
