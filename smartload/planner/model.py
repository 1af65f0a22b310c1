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
through idle slots, so pausing a car costs nothing; only changing the car does. A valid
row sum(e) <= most * (plugged now + sum(s)) makes the relaxation pay a whole swap for a
car it fills there, instead of smearing it thinly over many slots.

Per car: eta * sum(e) + shortfall - extra_wanted - extra_overshoot = required, with the
shortfall penalised (the targets are soft, so the model is always feasible).

Simultaneous import and export (or battery charge and discharge) never pays while the
import price is at least the export price (while cycling loses more than the slot pays):
the LP avoids it alone, helped by a tiny cost on each direction. Only slots where it
would pay (negative prices, feed-in above the import price) get an exclusivity binary.

Tie-breaks (settings.tie_break_eur_per_kwh, 1e-6) are price-independent: each kWh a car
takes in slot t costs (t + 1) x 1e-6 EUR more, so at equal prices the earliest slots win
and a flat tariff has one optimum instead of a plateau the solver wanders on.

Hysteresis (settings.switch_penalty_eur): each charging block a pair starts costs the
penalty (start[t] >= on[t] - on[t-1], the slot before the plan being the action in force,
CarInput.charging_now), so among slots of near-equal price a car charges in one block,
and a re-plan does not toggle the wallbox for a slot that saves less than the penalty.
Under a grid limit the relaxation would have a car go on by a fraction, paying that
fraction of the penalty, while the others fill the limit; the limit's flow cover
(add_limit_cuts, in milp mode) makes it pay the whole start where no plan could do that.

Early deadlines (planner/early.py): per car, soft rows for drivers who may leave before
the departure given, each kWh missing at such a time at its own penalty.

Energy left in the battery at the end is worth its terminal_value_eur_per_kwh; else, with
settings.expected_end_value, what it saves on the expected day after the horizon
(planner/terminal.py: a concave value, in segments); else eta_d x V - wear, where V is the
settings' terminal_value_eur_per_kwh or else the terminal_price_quantile of the import
prices. Energy a car leaving after the horizon takes beyond what it must have by then is
worth the cheapest expected price until it leaves / eta_c (with expected_end_value), else
V / eta_c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartload.planner.cars import Pair, car_needs, car_pairs
from smartload.planner.devices import (
    BatteryVars,
    CarVars,
    PairVars,
    add_battery,
    add_cars,
    add_exclusive,
    add_occupancy_rows,
    add_pair,
    later_minimum,
    pair_contested,
)
from smartload.planner.early import EarlyVars, add_early_deadlines
from smartload.planner.inputs import PlannerInput, PlannerSettings
from smartload.planner.lp import FloatArray, FrozenProgram, IntArray, LinearProgram
from smartload.planner.terminal import after_horizon


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
    overload: IntArray | None
    limit_kwh: FloatArray | None
    grid_exclusive_slots: IntArray
    grid_exclusive: IntArray
    battery_export_slots: IntArray
    battery_export: IntArray
    surplus_slots: IntArray
    surplus_export: IntArray
    surplus_full: IntArray
    battery: BatteryVars | None
    pairs: tuple[PairVars, ...]
    cars: tuple[CarVars, ...]
    early: tuple[EarlyVars, ...] = ()

    @property
    def shared(self) -> bool:
        """Whether any wallbox is shared: some pair has occupancy (plug swaps) to plan."""
        return any(pv.occupancy is not None for pv in self.pairs)

    def cost_without_swaps(self) -> FloatArray:
        """The objective with plug swaps free: its relaxation is still a lower bound (swap
        costs are >= 0) and solves several times faster, as presolve then drops the
        occupancy rows (30 cars: 0.1 s instead of 0.8 s)."""
        cost = self.program.cost.copy()
        for pv in self.pairs:
            if pv.arrival is not None:
                cost[pv.arrival] = 0.0
        return cost

    def room_kwh(self) -> FloatArray:
        """Per slot: what the grid limit leaves for the cars with the battery idle (inf: no limit)."""
        if self.limit_kwh is None:
            return np.full(self.duration_h.size, np.inf)
        return np.maximum(0.0, self.limit_kwh - (self.house_kwh - self.pv_kwh))

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

    def energies(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per (car, wallbox, slot): the energy x gives and the most there could be (0
        where the car cannot be)."""
        present = self.energy >= 0
        return np.where(present, x[np.maximum(self.energy, 0)], 0.0), np.where(present, self.e_max_kwh, 0.0)


def use_shares(energy: FloatArray, e_max: FloatArray) -> FloatArray:
    """Per (car, wallbox, slot) of CarGrid.energies: the share of the slot used, energy
    over the most there could be (0 where the car cannot be)."""
    return np.divide(energy, e_max, out=np.zeros_like(energy), where=e_max > 0)


def price_quantile(import_price: FloatArray, q: float) -> float:
    """np.quantile's default ("linear") quantile, at least 0, worked out here: np.quantile's
    first call imports numpy.ma, 10-12 ms of a service's first plan (3 cars: a third)."""
    ordered = np.sort(import_price)
    if not ordered.size:
        raise ValueError("no prices")
    at = (ordered.size - 1) * q
    below = int(np.floor(at))
    if below >= ordered.size - 1:
        return max(0.0, float(ordered[-1]))
    a, b, t = float(ordered[below]), float(ordered[below + 1]), at - below
    # numpy's _lerp, term for term (the same value to the last bit)
    return max(0.0, b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t)


def battery_export_slots(p_imp: FloatArray, p_exp: FloatArray, exp_max: FloatArray, bat: BatteryVars,
                         settings: PlannerSettings) -> IntArray:
    """Slots where discharging the battery into the grid could pay: the feed-in beats what
    a stored kWh is worth (refilled at a later import price, or kept at the terminal
    value), with a margin that errs towards more slots. evcc cannot make a battery
    discharge into the grid (it only covers the site's own deficit), so there the battery
    discharges or the site exports, never both; elsewhere the costs already forbid it."""
    later_min = later_minimum(p_imp)
    worth = np.minimum(later_min, bat.terminal_eur_per_kwh) * bat.eta_c * bat.eta_d
    margin = 2 * settings.battery_wear_eur_per_kwh + 1e-6
    return np.flatnonzero((p_exp + margin > worth) & (exp_max > 0) & (bat.discharge_max_kwh > 0)).astype(np.int64)


def add_surplus_charges_first(lp: LinearProgram, exp: IntArray, bat: BatteryVars, surplus: FloatArray
                              ) -> tuple[IntArray, IntArray, IntArray]:
    """The inverter puts PV surplus into the battery before the grid, in every evcc battery
    mode: the site exports only while the battery charges at its limit or is full at the
    slot's end. Two binaries per slot with a PV surplus: export allowed, battery full.

    Tight for the relaxation: the site never exports more than the PV surplus (the battery
    does not discharge into the grid), and where the surplus is below the battery's limit,
    exporting means the battery takes all of it first."""
    slots = np.flatnonzero((surplus > 0) & (bat.charge_max_kwh > 0)).astype(np.int64)
    k = slots.size
    export = lp.add_vars(k, 0.0, 1.0, 0.0, integer=True)
    full = lp.add_vars(k, 0.0, 1.0, 0.0, integer=True)
    if k:
        r = np.arange(k)
        room = np.minimum(bat.charge_max_kwh[slots], surplus[slots])
        lp.add_rows(k, np.r_[r, r], np.r_[exp[slots], export], np.r_[np.ones(k), -surplus[slots]], -np.inf, 0.0)
        # Net of discharge: cycling inside the slot must not pass for charging at the limit.
        lp.add_rows(k, np.r_[r, r, r, r], np.r_[bat.charge[slots], bat.discharge[slots], export, full],
                    np.r_[np.ones(k), -np.ones(k), -room, room], 0.0, np.inf)
        lp.add_rows(k, np.r_[r, r], np.r_[bat.soc[slots], full],
                    np.r_[np.ones(k), np.full(k, bat.soc_lo_kwh - bat.soc_hi_kwh)], bat.soc_lo_kwh, np.inf)
    return slots, export, full


def add_surplus_cuts(lp: LinearProgram, pair_vars: list[PairVars], imp: IntArray, dis: IntArray | None,
                     surplus: FloatArray) -> None:
    """Per slot with a PV surplus S > 0 (kWh), over the pairs there with a minimum and
    more room than S: import + discharge >= sum(e) - S x sum(on).

    Valid: with every such car off, their e are 0; with one or more on, the balance gives
    import + discharge >= sum(e) - S. The relaxation lacks it: there it lets cars soak up
    a surplus below their minimum as trickles, each on a few hundredths, which no plan can
    do (a car on takes at least the minimum, the rest from the grid or the battery). With
    each car at its own wallbox that put the relaxation's bound 0.2-1.6 % (3 cars) below
    the optimum, too far for the dive to prove itself within mip_rel_gap, so a MILP ran.
    One row per slot (not per pair): as tight on the benchmark, and the LP stays fast."""
    parts = [(pv_.pair.slots, pv_.energy, pv_.on, pv_.pair.e_min_kwh, pv_.pair.e_max_kwh)
             for pv_ in pair_vars if pv_.on is not None]
    if not parts:
        return
    slots = np.concatenate([p[0] for p in parts])
    s = surplus[slots]
    keep = (s > 0) & (s < np.concatenate([p[4] for p in parts])) & (np.concatenate([p[3] for p in parts]) > 0)
    if not keep.any():
        return
    slots, s = slots[keep], s[keep]
    energy = np.concatenate([p[1] for p in parts])[keep]
    on = np.concatenate([p[2] for p in parts])[keep]
    rows_t, row = np.unique(slots, return_inverse=True)
    k = rows_t.size
    r = np.arange(k)
    rows = [r, row, row]
    cols = [imp[rows_t], energy, on]
    vals = [np.ones(k), -np.ones(energy.size), s]
    if dis is not None:
        rows.append(r)
        cols.append(dis[rows_t])
        vals.append(np.ones(k))
    lp.add_rows(k, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), 0.0, np.inf)


def add_limit_cuts(lp: LinearProgram, pair_vars: list[PairVars], overload: IntArray, dis: IntArray | None,
                   room: FloatArray) -> None:
    """Per slot where the cars' most exceeds what the grid limit leaves them, room
    (limit + PV - house, kWh) by lambda > 0: the flow cover of the row
    sum(e) <= room + overload + discharge (the balance under the limit, export and
    battery charge dropped), each pair's e <= e_max x on:

        sum(e) + sum((e_max - lambda)+ x (1 - on)) <= room + overload + discharge

    Valid: with every car on it is that row; with car i off, the others take at most
    sum(e_max) - e_max_i = room + lambda - e_max_i. Pairs without an on/off decision
    count as always on. The relaxation lacks it: there a car not charging yet goes on
    by a fraction, at that fraction of its power, so it pays that fraction of the switch
    penalty, while the others fill the rest of the limit, which no plan can do with it
    off (a car charges at most its power). With 3 cars at their own wallboxes that kept
    the relaxation's bound 0.3-0.45 % below the optimum on 5 of 20 days."""
    parts = [(pv_.pair.slots, pv_.energy, pv_.on, pv_.pair.e_max_kwh) for pv_ in pair_vars]
    if not parts:
        return
    slots = np.concatenate([p[0] for p in parts])
    e_max = np.concatenate([p[3] for p in parts])
    lam = np.bincount(slots, e_max, minlength=room.size) - room
    with_on = np.concatenate([np.full(p[0].size, p[2] is not None) for p in parts])
    on = np.concatenate([p[2] if p[2] is not None else np.zeros(p[0].size, dtype=np.int64) for p in parts])
    coef = np.where(with_on, np.maximum(0.0, e_max - lam[slots]), 0.0)
    cut_t = np.flatnonzero((lam > 0) & (np.bincount(slots, coef, minlength=room.size) > 0))
    if not cut_t.size:
        return
    row_of = np.full(room.size, -1)
    row_of[cut_t] = np.arange(cut_t.size)
    keep = row_of[slots] >= 0
    k = cut_t.size
    r = np.arange(k)
    hit = keep & (coef > 0)
    rows = [row_of[slots[keep]], row_of[slots[hit]], r]
    cols = [np.concatenate([p[1] for p in parts])[keep], on[hit], overload[cut_t]]
    vals = [np.ones(int(keep.sum())), -coef[hit], -np.ones(k)]
    if dis is not None:
        rows.append(r)
        cols.append(dis[cut_t])
        vals.append(-np.ones(k))
    lp.add_rows(k, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), -np.inf,
                room[cut_t] - np.bincount(slots, coef, minlength=room.size)[cut_t])


def on_before(inputs: PlannerInput, pair: Pair) -> float:
    """1 where the car charges at this wallbox as the plan starts (the action in force)."""
    return 1.0 if pair.plugged_now and inputs.cars[pair.car].charging_now else 0.0


def build_model(inputs: PlannerInput, settings: PlannerSettings, pairs: list[Pair] | None = None,
                contested: list[bool] | None = None) -> PlanModel:
    """pairs: the (car, wallbox) pairs to plan (default: car_pairs, every one the inputs
    allow); contested: per pair, whether it needs occupancy and swap rows (default:
    pair_contested; fleet stays, one per car and disjoint per wallbox, need none)."""
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
    q_price = settings.terminal_value_eur_per_kwh
    after = None
    if q_price is None:
        q_price = price_quantile(p_imp, settings.terminal_price_quantile)
        if settings.expected_end_value:
            after = after_horizon(inputs.now, [s.end for s in slots], p_imp, p_exp, pv, house, dur, q_price)

    needs = car_needs(inputs, settings)
    if pairs is None:
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
    add_exclusive(lp, imp[g_slots], exp[g_slots], g, imp_max[g_slots], exp_max[g_slots])

    battery_vars = None
    x_slots = battery_export = s_slots = s_export = s_full = np.zeros(0, dtype=np.int64)
    if bat is not None:
        battery_vars = add_battery(lp, inputs, settings, dur, p_imp, p_exp, ch_max, dis_max, q_price, after)
        bal_cols += [battery_vars.discharge, battery_vars.charge]
        bal_vals += [np.ones(n), -np.ones(n)]
        bal_rows += [t_idx, t_idx]
        x_slots = battery_export_slots(p_imp, p_exp, exp_max, battery_vars, settings)
        battery_export = lp.add_vars(x_slots.size, 0.0, 1.0, 0.0, integer=True)
        add_exclusive(lp, exp[x_slots], battery_vars.discharge[x_slots], battery_export, exp_max[x_slots],
                      dis_max[x_slots])
        if bat.surplus_charges_first:
            s_slots, s_export, s_full = add_surplus_charges_first(lp, exp, battery_vars, pv - house)

    pair_vars = [
        add_pair(lp, pair, settings, shared, min(needs[pair.car].cap_kwh / inputs.cars[pair.car].charge_efficiency,
                                              float(pair.e_max_kwh.sum())), on_before(inputs, pair))
        for pair, shared in zip(pairs, pair_contested(pairs) if contested is None else contested, strict=True)
    ]
    for pv_ in pair_vars:
        bal_cols.append(pv_.energy)
        bal_vals.append(-np.ones(pv_.energy.size))
        bal_rows.append(pv_.pair.slots)
    add_occupancy_rows(lp, pair_vars, n)

    lp.add_rows(n, np.concatenate(bal_rows), np.concatenate(bal_cols), np.concatenate(bal_vals),
                house - pv, house - pv)
    if settings.mode == "milp":
        # Rows for the bound and the search (the dive, the MILPs); in "relaxation" mode the
        # plan is the relaxation repaired, which they would move for no gain (a household
        # run, tests/whatif/test_history.py: 22.2274 -> 22.2792 EUR with them).
        add_surplus_cuts(lp, pair_vars, imp, None if battery_vars is None else battery_vars.discharge, pv - house)
        if overload is not None and limit is not None:
            add_limit_cuts(lp, pair_vars, overload, None if battery_vars is None else battery_vars.discharge,
                           limit + pv - house)

    car_vars = add_cars(lp, inputs, settings, needs, pair_vars, q_price, after)
    early = add_early_deadlines(lp, inputs, needs, pair_vars)
    return PlanModel(
        inputs=inputs, settings=settings, program=lp.freeze(), duration_h=dur,
        import_price=p_imp, export_price=p_exp, pv_kwh=pv, house_kwh=house,
        grid_import=imp, grid_export=exp,
        overload=overload, limit_kwh=limit, grid_exclusive_slots=g_slots, grid_exclusive=g,
        battery_export_slots=x_slots, battery_export=battery_export,
        surplus_slots=s_slots, surplus_export=s_export, surplus_full=s_full,
        battery=battery_vars, pairs=tuple(pair_vars), cars=tuple(car_vars), early=early,
    )
