"""evcc's per-loadpoint charging decision, one control cycle at a time.

Order as in evcc's Loadpoint.Update: not connected -> off; mode off; minSoc not reached
or an active plan slot -> fast; limitEnergy / limitSoc reached -> stop; now -> fast;
pv/minpv: smart cost (price at or below smartCostLimit and no plan) -> fast, else the
surplus current with evcc's enable/disable thresholds and delays (core/loadpoint_pv.go).
sitePower < 0 means surplus, as in evcc. A heating device runs the same order on its
temperature (evcc's vehicleSoc); enabling it means "boost" (heatpump.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smartload.sim import planner
from smartload.sim.loadpoint import ELAPSED, SimLoadpoint
from smartload.sim.vehicle import SimVehicle

Rates = list[tuple[float, float, float]]
PLAN_TAIL_S = 120.0


@dataclass(slots=True)
class Context:
    now: float
    vehicles: dict[str, SimVehicle]
    rate: float | None
    rates: Callable[[], Rates]
    site_power_w: float
    battery_buffered: bool
    battery_start: bool
    expired_plans: list[str]


def _set(lp: SimLoadpoint, current: float) -> None:
    lp.enabled = current > 0.0
    lp.offered_current = current


def _fast(lp: SimLoadpoint) -> None:
    if lp.phases_configured == 0 and lp.phase_switching:
        lp.phases_active = lp.charger_phases
    _set(lp, lp.max_current)


def _timer_state(lp: SimLoadpoint, action: str, delay_s: float, now: float) -> float:
    """Elapsed seconds of the pv timer, started now if it was idle."""
    if lp.pv_timer is None:
        lp.pv_timer = now
    elapsed = now - lp.pv_timer
    lp.pv_action = action
    lp.pv_remaining_s = max(0.0, delay_s - elapsed)
    return elapsed


def _reset_pv_timer(lp: SimLoadpoint) -> None:
    lp.pv_timer = None
    lp.pv_action = "inactive"
    lp.pv_remaining_s = 0.0


def _scale_phases(lp: SimLoadpoint, available_w: float, now: float) -> None:
    """Automatic 1p/3p switching in solar modes, with the enable/disable delays."""
    volts, minimum = lp.voltage, lp.min_current
    waiting = False
    if lp.phases_active > 1 and available_w / (volts * lp.phases_active) < minimum:
        lp.phase_timer = now if lp.phase_timer is None else lp.phase_timer
        lp.phase_action, waiting = "scale1p", True
        if now - lp.phase_timer >= lp.disable_delay_s:
            lp.phases_active, waiting = 1, False
    elif lp.phases_active < lp.charger_phases and available_w / volts > lp.max_current \
            and available_w / (volts * lp.charger_phases) >= minimum:
        lp.phase_timer = now if lp.phase_timer is None else lp.phase_timer
        lp.phase_action, waiting = "scale3p", True
        if now - lp.phase_timer >= lp.enable_delay_s:
            lp.phases_active, waiting = lp.charger_phases, False
    if waiting and lp.phase_timer is not None:
        delay = lp.disable_delay_s if lp.phase_action == "scale1p" else lp.enable_delay_s
        lp.phase_remaining_s = max(0.0, delay - (now - lp.phase_timer))
    else:
        lp.phase_timer, lp.phase_action, lp.phase_remaining_s = None, "inactive", 0.0


def pv_max_current(lp: SimLoadpoint, ctx: Context) -> float:
    site_power, now = ctx.site_power_w, ctx.now
    if lp.phases_configured == 0 and lp.phase_switching:
        _scale_phases(lp, -site_power + lp.charge_power_w, now)
    phases = min(lp.phases_active, lp.vehicle.spec.phases) if lp.vehicle else lp.phases_active
    effective = lp.charge_power_w / (lp.voltage * phases) if lp.charging else 0.0
    target = max(effective - site_power / (lp.voltage * phases), 0.0)
    minimum = lp.min_current
    if (lp.mode == "minpv" or ctx.battery_start or (ctx.battery_buffered and lp.charging)) and target < minimum:
        return minimum
    if lp.mode == "pv" and lp.enabled and target < minimum:
        if site_power >= lp.disable_threshold_w:
            if _timer_state(lp, "disable", lp.disable_delay_s, now) >= lp.disable_delay_s:
                return 0.0
        else:
            _reset_pv_timer(lp)
        return minimum
    if lp.mode == "pv" and not lp.enabled:
        threshold = lp.enable_threshold_w
        if (threshold == 0 and target >= minimum) or (threshold != 0 and site_power <= threshold):
            if _timer_state(lp, "enable", lp.enable_delay_s, now) >= lp.enable_delay_s:
                return minimum
        else:
            _reset_pv_timer(lp)
        return 0.0
    _reset_pv_timer(lp)
    return min(target, lp.max_current)


def _update_plan(lp: SimLoadpoint, ev: SimVehicle | None, ctx: Context) -> None:
    if ev is not None and ev.plan_time is not None and ev.plan_time <= ctx.now:
        # A static plan ends at its time, reached or not.
        ev.plan_soc_pct, ev.plan_time = 0.0, None
        ctx.expired_plans.append(ev.name)
    soc = lp.evcc_soc(ctx.vehicles)
    # A SoC plan needs a car whose SoC evcc knows (socBasedPlanning).
    if ev is None or ev.plan_time is None or ev.plan_soc_pct <= 0 or soc is None or not lp.soc_based(ctx.vehicles):
        lp.plan_windows, lp.plan_active = [], False
        return
    need = planner.required_duration_s(soc, ev.plan_soc_pct, ev.spec.capacity_kwh, lp.max_power_w())
    lp.plan_windows = planner.plan(ctx.rates(), ctx.now, ev.plan_time, need)
    # A running plan finishes its last minutes instead of stopping just short of the goal.
    tail = lp.plan_active and 0 < need <= PLAN_TAIL_S
    lp.plan_active = planner.active(lp.plan_windows, ctx.now) or tail


def _update_smart_cost(lp: SimLoadpoint, ctx: Context) -> None:
    limit = lp.smart_cost_limit
    lp.smart_cost_active = limit is not None and ctx.rate is not None and ctx.rate <= limit
    lp.smart_cost_next_start = None
    if limit is not None and not lp.smart_cost_active:
        lp.smart_cost_next_start = next((s for s, _, v in ctx.rates() if s > ctx.now and v <= limit), None)


def clamp_to_circuit(lp: SimLoadpoint, headroom_w: float) -> float:
    """Cut the offered current to what the circuit has left (below the minimum current:
    off, as evcc's load management does); returns the power now granted to this loadpoint."""
    if not lp.enabled or lp.offered_current <= 0.0:
        return 0.0
    phases = min(lp.phases_active, lp.vehicle.spec.phases) if lp.vehicle else lp.phases_active
    per_amp_w = lp.voltage * phases
    if lp.offered_current * per_amp_w > headroom_w:
        current = headroom_w / per_amp_w
        _set(lp, current if current >= lp.min_current else 0.0)
    return lp.offered_current * per_amp_w if lp.enabled else 0.0


def decide(lp: SimLoadpoint, ctx: Context) -> None:
    """One evcc control cycle of this loadpoint: sets enabled, offered current and phases."""
    _update_smart_cost(lp, ctx)
    vehicles = ctx.vehicles
    ev = lp.identified(vehicles)
    _update_plan(lp, ev, ctx)
    lp.fast_charging = False
    if not lp.connected:
        _set(lp, 0.0)
        _reset_pv_timer(lp)
        return
    soc = lp.evcc_soc(vehicles)
    limit = lp.effective_limit_soc(vehicles)
    if lp.mode == "off":
        _set(lp, 0.0)
    elif lp.min_soc_not_reached(vehicles) or (lp.plan_active and lp.mode != "now"):
        lp.fast_charging = True
        _fast(lp)
        lp.pv_timer = ELAPSED
    elif lp.limit_energy_reached(vehicles) or (soc is not None and limit < 100 and soc >= limit):
        _set(lp, 0.0)
    elif lp.mode == "now":
        lp.fast_charging = True
        _fast(lp)
    elif lp.smart_cost_active and (ev is None or ev.plan_time is None):
        _fast(lp)
        lp.pv_timer = ELAPSED
    else:
        _set(lp, pv_max_current(lp, ctx))
