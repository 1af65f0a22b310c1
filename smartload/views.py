"""JSON-ready views of what a person looks at: the site, each car, the plan, the evcc
settings and who set them, health and events. The web API, SSE and MQTT all send these."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from smartload.domain import SiteState, SocReading, plugged_vehicles
from smartload.events import Event
from smartload.requests import ChargeRequest
from smartload.sinks.evcc_keys import observed_value
from smartload.sinks.sequencer import Handoff
from smartload.system import System
from smartload.timefmt import iso

if TYPE_CHECKING:
    from smartload.planner import Plan

_LOADPOINT_SETTINGS = ("mode", "maxcurrent", "limitsoc", "vehicle")


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def site_view(state: SiteState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    battery = state.battery
    return {
        "at": iso(state.at), "version": state.version, "currency": state.currency,
        "grid_power_w": _r(state.grid_power_w), "pv_power_w": _r(state.pv_power_w),
        "home_power_w": _r(state.home_power_w), "tariff_grid": state.tariff_grid, "tariff_feedin": state.tariff_feedin,
        "battery": None if battery is None else {
            "soc_pct": _r(battery.soc_pct), "power_w": _r(battery.power_w), "mode": battery.mode,
            "capacity_kwh": battery.capacity_kwh},
        "loadpoints": [{
            "id": lp.id, "title": lp.title, "mode": lp.mode.value if lp.mode else None, "connected": lp.connected,
            "charging": lp.charging, "charge_power_w": _r(lp.charge_power_w), "vehicle": lp.vehicle_name,
            "vehicle_soc_pct": lp.vehicle_soc_pct, "limit_soc_pct": lp.limit_soc_pct,
            "max_current_a": lp.max_current_a} for lp in state.loadpoints],
    }


def soc_view(reading: SocReading | None, now: datetime) -> dict[str, Any] | None:
    if reading is None:
        return None
    return {"soc_pct": reading.soc_pct, "source": reading.source, "measured_at": iso(reading.measured_at),
            "measured_at_known": reading.measured_at_known, "age_s": round(reading.age_s(now))}


def request_view(request: ChargeRequest | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {"id": request.id, "target_soc_pct": request.target_soc_pct, "energy_kwh": request.energy_kwh,
            "departure": iso(request.departure), "priority": request.priority, "source": request.source}


def vehicle_views(system: System) -> list[dict[str, Any]]:
    settings, live, planning, now = system.settings, system.live, system.planning, system.now
    names = settings.vehicles_by_evcc_name()
    plugged = plugged_vehicles(live.state, names)
    boosts = planning.sequencer.boosts(now)
    requests = planning.sequencer.requests(now)
    out = []
    for vehicle, config in settings.vehicles.items():
        car = live.plan.cars.get(vehicle) if live.plan is not None else None
        lp = next((lp for lp in live.state.loadpoints if lp.id == plugged[vehicle]), None) \
            if live.state is not None and vehicle in plugged else None
        out.append({
            "id": vehicle, "title": config.title or vehicle, "capacity_kwh": config.capacity_kwh,
            "soc": soc_view(live.socs.get(vehicle), now),
            "loadpoint": None if lp is None else {"id": lp.id, "title": lp.title, "charging": lp.charging,
                                                  "charge_power_w": _r(lp.charge_power_w)},
            "request": request_view(requests.get(vehicle)),
            "plan": None if car is None else {
                "target_soc_pct": car.target_soc_pct, "projected_soc_pct": _r(car.final_soc_pct),
                "departure": iso(car.departure), "shortfall_kwh": round(car.shortfall_kwh, 2),
                "energy_kwh": round(car.energy_charged_kwh, 2), "cost_eur": round(car.cost_eur, 2),
                "reason": car.reason},
            "boost_until": iso(boosts.get(vehicle)),
        })
    return out


def plan_view(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "status": plan.status, "created_at": iso(plan.created_at), "solve_time_s": round(plan.solve_time_s, 4),
        "gap": plan.gap, "cost_eur": round(plan.cost_eur, 4), "horizon_end": iso(plan.horizon_end),
        "slots": [{
            "start": iso(s.start), "end": iso(s.end), "import_eur_per_kwh": s.import_eur_per_kwh,
            "export_eur_per_kwh": s.export_eur_per_kwh, "pv_w": round(s.pv_w), "house_w": round(s.house_w),
            "grid_import_w": round(s.grid_import_w), "grid_export_w": round(s.grid_export_w),
            "battery_charge_w": round(s.battery_charge_w), "battery_discharge_w": round(s.battery_discharge_w),
            "battery_soc_pct": _r(s.battery_soc_pct),
            "cars": {v: {"power_w": round(c.power_w), "soc_pct": _r(c.soc_pct), "wallbox_id": c.wallbox_id}
                     for v, c in s.cars.items() if c.charging},
            "reasons": dict(s.reasons)} for s in plan.slots],
        "explanations": [{"device": e.device, "start": iso(e.start), "text": e.text}
                         for e in plan.explanations if e.start is None],
    }


def handoff_view(system: System) -> dict[str, Any] | None:
    """The newest handoff still open: its car is not yet at its wallbox and the current
    plan still charges it there (a later plan may have dropped or replaced it)."""
    settings, state, plan = system.settings, system.live.state, system.live.plan
    plugged = plugged_vehicles(state, settings.vehicles_by_evcc_name())
    newest: dict[int, Handoff] = {}
    for handoff in system.planning.handoffs:
        newest[handoff.wallbox_id] = handoff
    open_ = [h for h in newest.values() if plugged.get(h.vehicle) != h.wallbox_id and plan is not None and any(
        (car := slot.cars.get(h.vehicle)) is not None and car.charging and car.wallbox_id == h.wallbox_id
        for slot in plan.slots)]
    if not open_:
        return None
    handoff = min(open_, key=lambda h: h.by)
    return {"vehicle": handoff.vehicle, "wallbox_id": handoff.wallbox_id, "by": iso(handoff.by),
            "replaces": handoff.replaces, "message": handoff.message(settings.site.tz)}


def control_view(system: System) -> list[dict[str, Any]]:
    """Each evcc setting smartload may own: what evcc shows, what smartload wants, and whose
    value stands (smartload's, a person's who changed it in evcc, or evcc's own)."""
    actuator, state = system.planning.actuator, system.live.state
    if state is None:
        return []
    keys = [f"lp{lp.id}.{name}" for lp in state.loadpoints if lp.connected for name in _LOADPOINT_SETTINGS]
    keys += [k for k in actuator.desired if k not in keys]
    if state.battery is not None and "batterymode" not in keys:
        keys.append("batterymode")
    out = []
    for key in keys:
        intent = actuator.desired.get(key)
        observed = observed_value(state, key)
        lp_id = int(key[2:].split(".", 1)[0]) if key.startswith("lp") else None
        paused = actuator.paused.get(lp_id) if lp_id is not None else None
        if paused is not None:
            owner = "person"
        elif intent is not None and actuator.owns(key):
            owner = "smartload" if observed == intent.value else "smartload (pending)"
        else:
            owner = "evcc"
        if intent is None and observed is None:
            continue
        out.append({"key": key, "loadpoint": lp_id, "observed": observed,
                    "desired": intent.value if intent else None, "reason": intent.reason if intent else None,
                    "owner": owner, "paused_since": iso(paused.at) if paused else None})
    return out


def health_view(system: System) -> dict[str, Any]:
    health, planning = system.live.health, system.planning
    error = health.last_error
    return {"now": iso(system.now), "evcc_reachable": health.evcc_reachable, "last_poll_at": iso(health.last_poll_at),
            "last_tick_at": iso(health.last_tick_at), "last_plan_at": iso(health.last_plan_at),
            "last_plan_status": health.last_plan_status, "last_solve_s": _r(health.last_solve_s, 4),
            "last_error": None if error is None else {"at": iso(error.at), "kind": error.kind,
                                                      "message": error.message},
            # Why the plan is not acted on (evcc silent for two poll intervals), or None.
            "plan_stale": planning.stale, "planner_busy_s": _r(planning.solver.busy_s, 1),
            "left_out": dict(planning.left_out), "mode": system.settings.control.mode}


def event_view(event: Event) -> dict[str, Any]:
    return {"at": iso(event.at), "kind": event.kind, "vehicle": event.vehicle, "text": event.text,
            "data": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in event.data.items()}}


def live_view(system: System) -> dict[str, Any]:
    """Everything but the plan and the event log: what changes on every poll."""
    return {"site": site_view(system.live.state), "vehicles": vehicle_views(system),
            "handoff": handoff_view(system), "evcc_settings": control_view(system), "health": health_view(system)}


def dashboard_view(system: System, events: int = 50) -> dict[str, Any]:
    recent = list(system.live.events)[-events:]
    return {**live_view(system), "plan": plan_view(system.live.plan), "timezone": system.settings.site.timezone,
            "events": [event_view(e) for e in reversed(recent)]}
