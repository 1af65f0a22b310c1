"""Turn a solved schedule (kWh per slot) into the Plan people and the actuator read (W, %)."""

from __future__ import annotations

from datetime import datetime
from time import perf_counter

import numpy as np

from smartload.planner.explain import explain
from smartload.planner.lp import FloatArray
from smartload.planner.model import PlanModel
from smartload.planner.plan import (
    CarPlan,
    CarSlot,
    Explanation,
    Plan,
    PlanSlot,
    PlanStatus,
    frozen_map,
)
from smartload.planner.schedule import Schedule


def _w(kwh: FloatArray, duration_h: FloatArray) -> FloatArray:
    return kwh / duration_h * 1000.0


def assemble(
    model: PlanModel,
    schedule: Schedule,
    *,
    status: PlanStatus,
    objective_eur: float,
    gap: float | None,
    solve_time_s: float,
    started: float,
    search_gap_eur: float | None = None,
    searched_at: datetime | None = None,
) -> Plan:
    """`started` is the perf_counter reading when planning began (for total_time_s)."""
    inputs = model.inputs
    dur = model.duration_h
    s = schedule
    per_car = s.car_kwh.sum(axis=1)  # [car, slot], AC side
    eta = np.array([c.charge_efficiency for c in inputs.cars]).reshape(-1, 1)
    added = np.cumsum(per_car * eta, axis=1) if inputs.cars else np.zeros((0, dur.size))
    marginal = np.where(s.import_kwh > 0, model.import_price, model.export_price)
    cost = per_car @ marginal if inputs.cars else np.zeros(0)
    charged = per_car.sum(axis=1)
    reasons = explain(model, s, added, charged, cost)

    bat = inputs.battery
    # Whole arrays first, then plain floats: the loops below build 96 slots x cars objects,
    # and numpy scalars or per-slot array work there cost more than the rest of assembly.
    power = (per_car / dur * 1000.0).tolist()
    added_list = added.tolist()
    soc = [_car_soc_row(car.soc_pct, car.target_soc_pct, car.capacity_kwh, added[c])
           for c, car in enumerate(inputs.cars)]
    on_box = s.car_kwh > 0
    any_box: list[list[bool]] = np.asarray(on_box.any(axis=1)).tolist()  # [car][slot]
    first_box: list[list[int]] = (on_box.argmax(axis=1).tolist() if on_box.shape[1]
                                  else [[0] * dur.size for _ in inputs.cars])
    box_ids = [w.id for w in inputs.wallboxes]
    names = [car.name for car in inputs.cars]
    imp_w, exp_w = _w(s.import_kwh, dur).tolist(), _w(s.export_kwh, dur).tolist()
    ch_w, dis_w = _w(s.charge_kwh, dur).tolist(), _w(s.discharge_kwh, dur).tolist()
    bat_soc = (s.soc_kwh / bat.capacity_kwh * 100.0).tolist() if bat else None
    slots: list[PlanSlot] = []
    for t, slot in enumerate(inputs.slots):
        cars = {
            name: CarSlot(box_ids[first_box[c][t]] if any_box[c][t] else None, power[c][t], soc[c][t],
                          added_list[c][t])
            for c, name in enumerate(names)
        }
        slots.append(
            PlanSlot(
                start=slot.start,
                end=slot.end,
                import_eur_per_kwh=slot.import_eur_per_kwh,
                export_eur_per_kwh=slot.export_eur_per_kwh,
                pv_w=slot.pv_w,
                house_w=slot.house_w,
                grid_import_w=imp_w[t],
                grid_export_w=exp_w[t],
                battery_charge_w=ch_w[t],
                battery_discharge_w=dis_w[t],
                battery_soc_pct=bat_soc[t] if bat_soc is not None else None,
                cars=frozen_map(cars),
                reasons=frozen_map(reasons.slots[t]),
            )
        )
    car_plans: dict[str, CarPlan] = {}
    for c, car in enumerate(inputs.cars):
        need = model.cars[c].need
        total = float(added[c, -1])
        car_plans[car.name] = CarPlan(
            name=car.name,
            departure=car.departure,
            target_soc_pct=car.target_soc_pct if car.soc_pct is not None else None,
            final_soc_pct=_car_soc(car.soc_pct, car.target_soc_pct, car.capacity_kwh, total),
            need_kwh=need.need_kwh,
            shortfall_kwh=max(0.0, need.required_kwh - total),
            energy_charged_kwh=float(charged[c]),
            energy_added_kwh=total,
            cost_eur=float(cost[c]),
            reason=reasons.cars[car.name],
        )
    explanations = [
        Explanation(device, slot.start, text)
        for slot in slots
        for device, text in slot.reasons.items()
    ]
    explanations += [Explanation(name, None, plan.reason) for name, plan in car_plans.items()]
    energy_cost = float(s.import_kwh @ model.import_price - s.export_kwh @ model.export_price)
    return Plan(
        status=status,
        created_at=inputs.now,
        solve_time_s=solve_time_s,
        total_time_s=perf_counter() - started,
        gap=gap,
        objective_eur=objective_eur,
        cost_eur=energy_cost,
        slots=tuple(slots),
        cars=frozen_map(car_plans),
        explanations=tuple(explanations),
        search_gap_eur=search_gap_eur,
        searched_at=searched_at,
    )


def _car_soc(soc_pct: float | None, target_pct: float, capacity_kwh: float, added_kwh: float) -> float | None:
    if soc_pct is None:
        return None
    soc = soc_pct + added_kwh / capacity_kwh * 100.0
    # Within the cap's last-slot allowance the car stops at its limit, so it shows no more.
    return min(soc, max(target_pct, soc_pct))


def _car_soc_row(soc_pct: float | None, target_pct: float, capacity_kwh: float, added_kwh: FloatArray
                 ) -> list[float | None]:
    """_car_soc for each slot at once."""
    if soc_pct is None:
        return [None] * added_kwh.size
    soc = soc_pct + added_kwh / capacity_kwh * 100.0
    return list(np.minimum(soc, max(target_pct, soc_pct)).tolist())


def empty_plan(now: datetime, started: float) -> Plan:
    return Plan("empty", now, 0.0, perf_counter() - started, None, 0.0, 0.0, (), frozen_map(), ())
