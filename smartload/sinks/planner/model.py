"""The planning MILP: variables, rows and objective, built as sparse blocks.

All energies are kWh per slot, so a shortened first slot needs no special case
(energy = power x duration). Per slot t:

    pv + import + discharge = house + sum(cars) + export + charge        (energy balance)
    soc[t] = soc[t-1] + eta_c * charge - discharge / eta_d                (battery)
    import - overload <= limit * duration                                 (fuse, §14a; optional)

Per (car, wallbox) pair and slot in its window: energy e, on/off z (binary) with
e_min * z <= e <= e_max * z (the 6 A x phases x 230 V minimum); where a wallbox has several
candidate cars, or a car several wallboxes, an occupancy y in [0, 1] with z <= y,
sum over cars of y <= 1 per wallbox, sum over wallboxes of y <= 1 per car, and an arrival
s >= y[t] - y[t-1] that costs the swap penalty (a plug-in by a person). Occupancy may stay
through idle slots, so pausing a car costs nothing; only changing the car does.

Per car: eta * sum(e) + shortfall - extra_wanted - extra_overshoot = required, with the
shortfall penalised (the targets are soft, so the model is always feasible).

Simultaneous import and export (or battery charge and discharge) never pays while the
import price is at least the export price (while cycling loses more than the slot pays):
the LP avoids it alone, helped by a tiny cost on each direction. Only slots where it
would pay (negative prices, feed-in above the import price) get an exclusivity binary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartload.sinks.planner.cars import CarNeed, Pair, car_needs, car_pairs
from smartload.sinks.planner.inputs import PlannerInput, PlannerSettings
from smartload.sinks.planner.lp import FloatArray, FrozenProgram, IntArray, LinearProgram

_EMPTY = np.zeros(0, dtype=np.int64)


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
    terminal_eur_per_kwh: float


@dataclass(frozen=True)
class PairVars:
    pair: Pair
    energy: IntArray
    on: IntArray | None
    occupancy: IntArray | None
    arrival: IntArray | None


@dataclass(frozen=True)
class CarVars:
    need: CarNeed
    shortfall: int | None
    wanted: int | None
    overshoot: int | None
    value_eur_per_kwh: float


@dataclass(frozen=True)
class PlanModel:
    inputs: PlannerInput
    settings: PlannerSettings
    program: FrozenProgram
    duration_h: FloatArray
    import_price: FloatArray
    export_price: FloatArray
    pv_kwh: FloatArray
    house_kwh: FloatArray
    grid_import: IntArray
    grid_export: IntArray
    import_max_kwh: FloatArray
    export_max_kwh: FloatArray
    overload: IntArray | None
    limit_kwh: FloatArray | None
    grid_exclusive_slots: IntArray
    grid_exclusive: IntArray
    battery: BatteryVars | None
    pairs: tuple[PairVars, ...]
    cars: tuple[CarVars, ...]

    def car_grid(self) -> CarGrid:
        """Per (car, wallbox, slot): variable indices (-1: none) and energy bounds."""
        shape = (len(self.inputs.cars), len(self.inputs.wallboxes), self.duration_h.size)
        grid = CarGrid(np.full(shape, -1), np.full(shape, -1), np.zeros(shape), np.zeros(shape))
        for pv in self.pairs:
            at = (pv.pair.car, pv.pair.wallbox, pv.pair.slots)
            grid.energy[at] = pv.energy
            if pv.on is not None:
                grid.on[at] = pv.on
            grid.e_min_kwh[at] = pv.pair.e_min_kwh
            grid.e_max_kwh[at] = pv.pair.e_max_kwh
        return grid


@dataclass(frozen=True)
class CarGrid:
    energy: IntArray
    on: IntArray
    e_min_kwh: FloatArray
    e_max_kwh: FloatArray


def price_quantile(import_price: FloatArray, q: float) -> float:
    return max(0.0, float(np.quantile(import_price, q)))


def build_model(inputs: PlannerInput, settings: PlannerSettings) -> PlanModel:
    lp = LinearProgram()
    slots = inputs.slots
    n = len(slots)
    t_idx = np.arange(n, dtype=np.int64)
    dur = np.array([s.duration_h for s in slots])
    p_imp = np.array([s.import_eur_per_kwh for s in slots])
    p_exp = np.array([s.export_eur_per_kwh for s in slots])
    pv = np.array([s.pv_w for s in slots]) * dur / 1000.0
    house = np.array([s.house_w for s in slots]) * dur / 1000.0
    tb = settings.tie_break_eur_per_kwh
    q_price = price_quantile(p_imp, settings.terminal_price_quantile)

    needs = car_needs(inputs, settings)
    pairs = car_pairs(inputs, settings, needs)
    car_max = np.zeros(n)
    for pair in pairs:
        np.add.at(car_max, pair.slots, pair.e_max_kwh)

    bat = inputs.battery
    ch_max = dis_max = np.zeros(n)
    if bat is not None:
        ch_max = bat.max_charge_w * dur / 1000.0
        if not bat.allow_grid_charge:
            ch_max = np.minimum(ch_max, np.maximum(0.0, pv - house))
        dis_max = bat.max_discharge_w * dur / 1000.0

    imp_max = house + car_max + ch_max
    exp_max = pv + dis_max
    imp = lp.add_vars(n, 0.0, imp_max, p_imp + tb)
    exp = lp.add_vars(n, 0.0, exp_max, -p_exp + tb)
    # Balance rows are filled once every consumer is known: collect (col, coefficient, slot).
    bal_cols: list[IntArray] = [imp, exp]
    bal_vals: list[FloatArray] = [np.ones(n), -np.ones(n)]
    bal_rows: list[IntArray] = [t_idx, t_idx]

    overload = limit = None
    if settings.grid_import_limit_w is not None:
        limit = settings.grid_import_limit_w * dur / 1000.0
        overload = lp.add_vars(n, 0.0, np.inf, settings.grid_overload_penalty_eur_per_kwh)
        lp.add_rows(n, np.r_[t_idx, t_idx], np.r_[imp, overload], np.r_[np.ones(n), -np.ones(n)],
                    -np.inf, limit)

    g_slots = np.flatnonzero((p_imp + 2 * tb < p_exp) & (imp_max > 0) & (exp_max > 0))
    g = lp.add_vars(g_slots.size, 0.0, 1.0, 0.0, integer=True)
    _exclusive(lp, imp[g_slots], exp[g_slots], g, imp_max[g_slots], exp_max[g_slots])

    battery_vars = None
    if bat is not None:
        battery_vars = _battery(lp, inputs, settings, dur, p_imp, p_exp, ch_max, dis_max, q_price)
        bal_cols += [battery_vars.discharge, battery_vars.charge]
        bal_vals += [np.ones(n), -np.ones(n)]
        bal_rows += [t_idx, t_idx]

    pair_vars = [
        _pair(lp, pair, settings, pairs, min(needs[pair.car].cap_kwh / inputs.cars[pair.car].charge_efficiency,
                                             float(pair.e_max_kwh.sum())))
        for pair in pairs
    ]
    for pv_ in pair_vars:
        bal_cols.append(pv_.energy)
        bal_vals.append(-np.ones(pv_.energy.size))
        bal_rows.append(pv_.pair.slots)
    _occupancy_rows(lp, pair_vars, n)

    lp.add_rows(n, np.concatenate(bal_rows), np.concatenate(bal_cols), np.concatenate(bal_vals),
                house - pv, house - pv)

    car_vars = _cars(lp, inputs, settings, needs, pair_vars, q_price)
    return PlanModel(
        inputs=inputs, settings=settings, program=lp.freeze(), duration_h=dur,
        import_price=p_imp, export_price=p_exp, pv_kwh=pv, house_kwh=house,
        grid_import=imp, grid_export=exp, import_max_kwh=imp_max, export_max_kwh=exp_max,
        overload=overload, limit_kwh=limit, grid_exclusive_slots=g_slots, grid_exclusive=g,
        battery=battery_vars, pairs=tuple(pair_vars), cars=tuple(car_vars),
    )


def _exclusive(lp: LinearProgram, a: IntArray, b: IntArray, bin_: IntArray,
               a_max: FloatArray, b_max: FloatArray) -> None:
    """a <= a_max * bin and b <= b_max * (1 - bin): at most one direction per slot."""
    k = bin_.size
    if k == 0:
        return
    r = np.arange(k)
    lp.add_rows(k, np.r_[r, r], np.r_[a, bin_], np.r_[np.ones(k), -a_max], -np.inf, 0.0)
    lp.add_rows(k, np.r_[r, r], np.r_[b, bin_], np.r_[np.ones(k), b_max], -np.inf, b_max)


def _battery(lp: LinearProgram, inputs: PlannerInput, settings: PlannerSettings, dur: FloatArray,
             p_imp: FloatArray, p_exp: FloatArray, ch_max: FloatArray, dis_max: FloatArray,
             q_price: float) -> BatteryVars:
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
    if terminal is None:
        terminal = max(0.0, eta_d * q_price - wear)
    ch = lp.add_vars(n, 0.0, ch_max, wear + tb)
    dis = lp.add_vars(n, 0.0, dis_max, wear + tb)
    soc_cost = np.zeros(n)
    soc_cost[-1] = -terminal
    soc = lp.add_vars(n, lo, hi, soc_cost)
    t = np.arange(n)
    prev = t[1:]
    rows = np.r_[t, prev, t, t]
    cols = np.r_[soc, soc[:-1], ch, dis]
    vals = np.r_[np.ones(n), -np.ones(n - 1), np.full(n, -eta_c), np.full(n, 1.0 / eta_d)]
    rhs = np.zeros(n)
    rhs[0] = soc0
    lp.add_rows(n, rows, cols, vals, rhs, rhs)
    # Cycling in one slot pays only if burning energy earns more than the losses and wear cost.
    worst_price = np.minimum(p_imp, p_exp)
    loss = 1.0 - eta_c * eta_d
    gain = -worst_price * loss - wear * (1.0 + eta_c * eta_d) - 2 * tb
    b_slots = np.flatnonzero((gain > 0) & (ch_max > 0) & (dis_max > 0))
    b = lp.add_vars(b_slots.size, 0.0, 1.0, 0.0, integer=True)
    _exclusive(lp, ch[b_slots], dis[b_slots], b, ch_max[b_slots], dis_max[b_slots])
    return BatteryVars(ch, dis, soc, b_slots, b, soc0, lo, hi, ch_max, dis_max, eta_c, eta_d, terminal)


def _pair(lp: LinearProgram, pair: Pair, settings: PlannerSettings, pairs: list[Pair],
          max_energy_kwh: float) -> PairVars:
    k = pair.slots.size
    tb = settings.tie_break_eur_per_kwh
    # Earlier is better at equal price, so flat tariffs have one optimum, not a plateau.
    energy = lp.add_vars(k, 0.0, pair.e_max_kwh, tb * (pair.slots + 1))
    shared_box = sum(1 for p in pairs if p.wallbox == pair.wallbox) > 1
    roaming = sum(1 for p in pairs if p.car == pair.car) > 1
    contested = shared_box or roaming
    needs_on = contested or bool(np.any(pair.e_min_kwh > 0))
    r = np.arange(k)
    on = occupancy = arrival = None
    if needs_on:
        on = lp.add_vars(k, 0.0, 1.0, 0.0, integer=True)
        lp.add_rows(k, np.r_[r, r], np.r_[energy, on], np.r_[np.ones(k), -pair.e_max_kwh], -np.inf, 0.0)
        if np.any(pair.e_min_kwh > 0):
            lp.add_rows(k, np.r_[r, r], np.r_[energy, on], np.r_[np.ones(k), -pair.e_min_kwh], 0.0, np.inf)
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
    return PairVars(pair, energy, on, occupancy, arrival)


def _occupancy_rows(lp: LinearProgram, pair_vars: list[PairVars], n: int) -> None:
    """At most one car per wallbox and one wallbox per car, in every slot."""
    contested = [p for p in pair_vars if p.occupancy is not None]
    if not contested:
        return
    cols = np.concatenate([p.occupancy for p in contested])  # type: ignore[misc]
    slots = np.concatenate([p.pair.slots for p in contested])
    for key in (np.concatenate([np.full(p.pair.slots.size, p.pair.wallbox) for p in contested]),
                np.concatenate([np.full(p.pair.slots.size, p.pair.car) for p in contested])):
        groups, rows = np.unique(key * n + slots, return_inverse=True)
        counts = np.bincount(rows)
        if counts.max(initial=0) > 1:
            lp.add_rows(groups.size, rows, cols, 1.0, -np.inf, 1.0)


def _cars(lp: LinearProgram, inputs: PlannerInput, settings: PlannerSettings, needs: list[CarNeed],
          pair_vars: list[PairVars], q_price: float) -> list[CarVars]:
    result: list[CarVars] = []
    for c, car in enumerate(inputs.cars):
        need = needs[c]
        mine = [p for p in pair_vars if p.pair.car == c]
        value = q_price / car.charge_efficiency
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
        result.append(CarVars(need, int(short[0]), int(wanted[0]), int(over[0]), value))
    return result
