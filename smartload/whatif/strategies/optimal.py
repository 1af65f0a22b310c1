"""Optimal: one plan for the whole period with perfect foresight, by the pure planner.

The planner sees every 15-minute slot of the period at once: the actual prices, the
actual PV and house load (the simulator's per-minute values averaged per slot), and every
stay exactly as it happens (each stay a car of its own, available from its plug-in,
due at its actual departure, at the wallboxes it may use). The battery may use its whole
physical range and costs no wear, but obeys its inverter as in the simulator: it never
discharges into the grid, and PV surplus charges it before any goes out (the site
exports only while it charges at its limit or is full). Plug swaps cost nothing. Energy
left in the battery or charged into a car still at home at the end is valued as the
report values it for every strategy (the lowest price of the day after the period).

It is a lower bound on what any strategy can pay in the simulator, up to the planner's
optimality gap (reported). Where HiGHS on the whole model finds no schedule within the
time limit, the relaxation-guided neighbourhood gets a second time limit. The model nets
import and export within a slot, ignores the taper above 80 % SoC and assumes each stay's
car arrives as if the last stay met its target. A target counts as met within
REACHED_MARGIN_PCT, for the optimum as for every strategy. Its schedule is not played
back through the simulator.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np

from smartload.planner import (
    BatteryInput,
    CarInput,
    Plan,
    PlannerInput,
    PlannerSettings,
    Slot,
    WallboxInput,
    make_plan,
)
from smartload.sim.days import day_of
from smartload.sim.site import Site
from smartload.whatif.evcc_port import utc
from smartload.whatif.household import home_stays
from smartload.whatif.metrics import REACHED_MARGIN_PCT
from smartload.whatif.sessions import CAR_CAPACITY_KWH, arrival_soc_pct
from smartload.whatif.strategies.base import RunInputs

SLOT_S = 900
# Stays still open at the period's end are due at their real departure: look this far on.
_LOOKAHEAD = timedelta(days=7)


def site_slots(site: Site, start_ts: float, end_ts: float) -> tuple[Slot, ...]:
    """Actual prices, PV and house load per 15-minute slot of [start, end)."""
    slots = []
    t = start_ts
    tariff = site.tariff
    while t < end_ts:
        stop = min(t + SLOT_S, end_ts)
        day = day_of(t, site.tz)
        first = int((t - day.start) // 60)
        count = max(1, round((stop - t) / 60))
        pv = site.solar.minutes(day)[first:first + count]
        house = site.house.minutes(day)[first:first + count]
        slots.append(Slot(utc(t), utc(stop), tariff.price_at(t), tariff.feedin,
                          float(np.mean(pv)), float(np.mean(house))))
        t = stop
    return tuple(slots)


def _battery(inputs: RunInputs, value_eur_per_kwh: float) -> BatteryInput | None:
    spec = inputs.scenario.battery
    if spec is None:
        return None
    eta = math.sqrt(spec.round_trip_efficiency)
    return BatteryInput(
        capacity_kwh=spec.capacity_kwh, soc_pct=spec.soc_pct, max_charge_w=spec.max_charge_w,
        max_discharge_w=spec.max_discharge_w, min_soc_pct=spec.min_soc_pct, max_soc_pct=100.0,
        reserve_soc_pct=0.0, charge_efficiency=eta, discharge_efficiency=eta, wear_eur_per_kwh=0.0,
        terminal_value_eur_per_kwh=value_eur_per_kwh, allow_grid_charge=True, surplus_charges_first=True,
    )


def _wallboxes(inputs: RunInputs) -> tuple[WallboxInput, ...]:
    return tuple(
        WallboxInput(id=i + 1, phases=lp.phases, max_current_a=lp.max_current_a, min_current_a=lp.min_current_a,
                     voltage_v=inputs.scenario.voltage_v)
        for i, lp in enumerate(inputs.scenario.loadpoints)
    )


def stay_cars(inputs: RunInputs) -> tuple[CarInput, ...]:
    """One car per stay: household stays from the seeded trips, or the ACN sessions."""
    scenario = inputs.scenario
    cars: list[CarInput] = []
    if inputs.sessions is not None:
        plan = inputs.sessions
        for s in plan.sessions:
            spec = scenario.vehicles[plan.vehicle(s)]
            cars.append(CarInput(
                name=s.id, capacity_kwh=CAR_CAPACITY_KWH,
                target_soc_pct=inputs.targets[plan.vehicle(s)] - REACHED_MARGIN_PCT,
                soc_pct=max(0.0, arrival_soc_pct(s.requested_kwh)), departure=s.departure,
                max_charge_w=spec.max_charge_w, charge_efficiency=spec.charge_efficiency,
                allowed_wallboxes=(plan.wallbox(s),), available_from=s.arrival,
            ))
        return tuple(cars)
    reached = {name: target - REACHED_MARGIN_PCT for name, target in inputs.targets.items()}
    for stay in home_stays(scenario, inputs.start, inputs.end + _LOOKAHEAD, inputs.seed, reached):
        if stay.plug_from >= inputs.end:
            continue
        spec = scenario.vehicles[stay.vehicle]
        cars.append(CarInput(
            name=f"{stay.vehicle}#{stay.index}", capacity_kwh=spec.capacity_kwh,
            target_soc_pct=inputs.targets[stay.vehicle] - REACHED_MARGIN_PCT, soc_pct=stay.soc_on_arrival_pct,
            departure=stay.departure, max_charge_w=spec.max_charge_w, charge_efficiency=spec.charge_efficiency,
            allowed_wallboxes=tuple(spec.loadpoints), available_from=max(stay.plug_from, inputs.start),
        ))
    return tuple(cars)


def stay_vehicles(inputs: RunInputs, cars: tuple[CarInput, ...]) -> dict[str, str]:
    """Stay (car name in the plan) -> the vehicle it is."""
    if inputs.sessions is not None:
        plan = inputs.sessions
        return {s.id: plan.vehicle(s) for s in plan.sessions}
    return {car.name: car.name.split("#", 1)[0] for car in cars}


def solve(inputs: RunInputs, site: Site, value_eur_per_kwh: float) -> tuple[PlannerInput, Plan]:
    slots = site_slots(site, inputs.start.timestamp(), inputs.end.timestamp())
    planner_input = PlannerInput(inputs.start, slots, _battery(inputs, value_eur_per_kwh), _wallboxes(inputs),
                                 stay_cars(inputs))
    planning = inputs.settings.planning
    settings = PlannerSettings(
        # Energy left in a car that leaves after the period is worth the same as in the report.
        terminal_value_eur_per_kwh=value_eur_per_kwh,
        time_limit_s=inputs.optimal_time_limit_s, mip_rel_gap=0.001,
        # The relaxation-guided neighbourhood is made for the cars' decisions; with the
        # inverter's binaries HiGHS on the whole model proves a far smaller gap (household
        # 2023-04: 0.24 % in 240 s, against 2.5 % guided).
        lp_guided=inputs.scenario.battery is None,
        shortfall_penalty_eur_per_kwh=planning.shortfall_penalty_eur_per_kwh, swap_penalty_eur=0.0,
        grid_import_limit_w=planning.grid_import_limit_w, battery_wear_eur_per_kwh=0.0,
        timezone=inputs.settings.site.timezone,
    )
    plan = make_plan(planner_input, settings)
    if plan.status == "fallback" and not settings.lp_guided:
        # No MILP schedule in time (household 2024-10, 28 days: none in 1800 s either);
        # the guided neighbourhood finds one (there: 0 departures missed against the LP
        # repair's 26). It gets its own time limit. Its MILP schedule is kept even if
        # dearer than the repair: only a MILP schedule counts as an optimum (cost.py).
        guided = make_plan(planner_input, replace(settings, lp_guided=True))
        if guided.status != "fallback" or guided.objective_eur < plan.objective_eur:
            plan = guided
    return planner_input, plan
