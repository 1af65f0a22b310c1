"""JSON-ready views of what a person looks at: the site, each car, the plan, the evcc
settings and who set them, health and events. The web API, SSE and MQTT all send these;
their shapes are the TypedDicts of view_types.py (and the OpenAPI document's schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from smartload.clock import ScaledAsyncIOScheduler
from smartload.domain import SiteState, SocReading, plugged_vehicles
from smartload.events import Event
from smartload.habits import sentence
from smartload.plan_status import gap_eur, status_text
from smartload.requests import ChargeRequest
from smartload.sinks.evcc_keys import observed_value
from smartload.sinks.sequencer import Handoff
from smartload.system import System
from smartload.timefmt import iso
from smartload.view_types import (
    CarLoadpointView,
    ControlView,
    DashboardView,
    EventView,
    HabitsView,
    HandoffView,
    HealthView,
    LiveUpdate,
    Owner,
    PlanView,
    RequestView,
    SimulatorView,
    SiteView,
    SocView,
    SolarScaleView,
    VehicleView,
)

if TYPE_CHECKING:
    from smartload.planner import Plan

_LOADPOINT_SETTINGS = ("mode", "maxcurrent", "limitsoc", "vehicle")


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def wallbox_name(state: SiteState | None, lp_id: int) -> str:
    """The one name of a wallbox wherever smartload shows it: evcc's loadpoint title, or
    "wallbox N" when evcc gives none (or has not been heard from)."""
    lp = next((lp for lp in state.loadpoints if lp.id == lp_id), None) if state is not None else None
    return lp.title.strip() if lp is not None and lp.title.strip() else f"wallbox {lp_id}"


def site_view(state: SiteState | None) -> SiteView | None:
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
            "id": lp.id, "title": lp.title, "name": wallbox_name(state, lp.id),
            "mode": lp.mode.value if lp.mode else None, "connected": lp.connected,
            "charging": lp.charging, "charge_power_w": _r(lp.charge_power_w), "vehicle": lp.vehicle_name,
            "vehicle_soc_pct": lp.vehicle_soc_pct, "limit_soc_pct": lp.limit_soc_pct,
            "max_current_a": lp.max_current_a} for lp in state.loadpoints],
    }


def soc_view(reading: SocReading | None, now: datetime) -> SocView | None:
    if reading is None:
        return None
    return {"soc_pct": reading.soc_pct, "source": reading.source, "measured_at": iso(reading.measured_at),
            "measured_at_known": reading.measured_at_known, "age_s": round(reading.age_s(now))}


def request_view(request: ChargeRequest | None) -> RequestView | None:
    if request is None:
        return None
    return {"id": request.id, "target_soc_pct": request.target_soc_pct, "energy_kwh": request.energy_kwh,
            "departure": iso(request.departure), "priority": request.priority, "source": request.source}


def vehicle_views(system: System) -> list[VehicleView]:
    settings, live, planning, now = system.settings, system.live, system.planning, system.now
    names = settings.vehicles_by_evcc_name()
    plugged = plugged_vehicles(live.state, names)
    boosts = planning.sequencer.boosts(now)
    requests = planning.sequencer.requests(now)
    # Whether a car is plugged in is known only while evcc answers.
    known = live.state is not None and live.health.evcc_reachable
    out: list[VehicleView] = []
    for vehicle, config in settings.vehicles.items():
        car = live.plan.cars.get(vehicle) if live.plan is not None else None
        lp = next((lp for lp in live.state.loadpoints if lp.id == plugged[vehicle]), None) \
            if live.state is not None and vehicle in plugged else None
        request = requests.get(vehicle)
        # The planner starts a car without a SoC at planning.unknown_soc_pct (unless its
        # request is in kWh): the projection from it is only as good as that guess.
        assumed = (car is not None and vehicle not in live.plan_socs
                   and (request is None or request.energy_kwh is None))
        where: CarLoadpointView | None = None if lp is None else {
            "id": lp.id, "title": lp.title, "name": wallbox_name(live.state, lp.id), "charging": lp.charging,
            "charge_power_w": _r(lp.charge_power_w)}
        out.append({
            "id": vehicle, "title": config.title or vehicle, "capacity_kwh": config.capacity_kwh,
            "plugged_in": (lp is not None) if known else None,
            "soc": soc_view(live.socs.get(vehicle), now),
            "loadpoint": where,
            "request": request_view(request),
            "plan": None if car is None else {
                "target_soc_pct": car.target_soc_pct, "projected_soc_pct": _r(car.final_soc_pct),
                "assumed_soc_pct": settings.planning.unknown_soc_pct if assumed else None,
                "departure": iso(car.departure), "shortfall_kwh": round(car.shortfall_kwh, 2),
                "energy_kwh": round(car.energy_charged_kwh, 2), "cost_eur": round(car.cost_eur, 2),
                "reason": car.reason},
            "boost_until": iso(boosts.get(vehicle)),
            "habits": habits_view(system, vehicle),
        })
    return out


def habits_view(system: System, vehicle: str) -> HabitsView | None:
    """What smartload has learned of the car's trips, and when it expects it home."""
    watch = system.planning.sequencer.habits
    if watch is None:
        return None
    now = system.now
    summary = watch.book.summary(vehicle, now)
    expected = watch.expected(vehicle, now)
    return {
        **summary, "text": sentence(summary),
        "expected": None if expected is None else {
            "at": iso(expected.at), "soc_pct": _r(expected.soc_pct), "probability": round(expected.probability, 2)},
    }


def plan_view(plan: Plan | None, time_limit_s: float) -> PlanView | None:
    if plan is None:
        return None
    gap = gap_eur(plan)
    return {
        "status": plan.status, "status_text": status_text(plan, time_limit_s),
        "created_at": iso(plan.created_at), "solve_time_s": round(plan.solve_time_s, 4),
        "gap": plan.gap, "gap_eur": None if gap is None else round(gap, 2), "cost_eur": round(plan.cost_eur, 4),
        "horizon_end": iso(plan.horizon_end),
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


def system_plan_view(system: System) -> PlanView | None:
    return plan_view(system.live.plan, system.settings.planning.time_limit.total_seconds())


def handoff_view(system: System) -> HandoffView | None:
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
    replaces, replaces_title = _occupant(system, handoff)
    return {"vehicle": handoff.vehicle, "vehicle_title": _title(system, handoff.vehicle),
            "wallbox_id": handoff.wallbox_id, "wallbox": wallbox_name(state, handoff.wallbox_id),
            "by": iso(handoff.by), "replaces": replaces, "replaces_title": replaces_title,
            "message": handoff_message(system, handoff)}


def handoff_message(system: System, handoff: Handoff) -> str:
    """"unplug Renault Zoe, then plug in Hyundai Ioniq 5 at Garage by 20:30": the cars by
    their titles, the wallbox by its name, the time in the site's time zone."""
    _, replaces_title = _occupant(system, handoff)
    when = handoff.by.astimezone(system.settings.site.tz).strftime("%H:%M")
    first = f"unplug {replaces_title}, then " if replaces_title else ""
    return (f"{first}plug in {_title(system, handoff.vehicle)} at "
            f"{wallbox_name(system.live.state, handoff.wallbox_id)} by {when}")


def _title(system: System, vehicle: str) -> str:
    config = system.settings.vehicles.get(vehicle)
    return config.title or vehicle if config is not None else vehicle


def _occupant(system: System, handoff: Handoff) -> tuple[str | None, str | None]:
    """The car to unplug at the handoff's wallbox (id, name): whichever car evcc shows
    there now (a guest car too), else the one the handoff named; (None, None) if it is free."""
    state = system.live.state
    lp = next((lp for lp in state.loadpoints if lp.id == handoff.wallbox_id), None) if state is not None else None
    if lp is not None and not lp.connected:
        return None, None
    name = lp.identified_vehicle if lp is not None else None
    if name:
        vehicle = system.settings.vehicles_by_evcc_name().get(name, name)
        known = vehicle in system.settings.vehicles
        return vehicle, _title(system, vehicle) if known else (lp.vehicle_title if lp and lp.vehicle_title else name)
    if handoff.replaces is not None:
        return handoff.replaces, _title(system, handoff.replaces)
    return None, (None if lp is None else "the car plugged in there")


def control_view(system: System) -> list[ControlView]:
    """Each evcc setting smartload may own: what evcc shows, what smartload wants, and whose
    value stands (smartload's, a person's who changed it in evcc, or evcc's own)."""
    actuator, state = system.planning.actuator, system.live.state
    if state is None:
        return []
    keys = [f"lp{lp.id}.{name}" for lp in state.loadpoints if lp.connected for name in _LOADPOINT_SETTINGS]
    keys += [k for k in actuator.desired if k not in keys]
    if state.battery is not None and "batterymode" not in keys:
        keys.append("batterymode")
    out: list[ControlView] = []
    for key in keys:
        intent = actuator.desired.get(key)
        observed = observed_value(state, key)
        lp_id = int(key[2:].split(".", 1)[0]) if key.startswith("lp") else None
        paused = actuator.paused.get(lp_id) if lp_id is not None else None
        owner: Owner
        if paused is not None:
            owner = "person"
        elif intent is not None and actuator.owns(key):
            owner = "smartload" if observed == intent.value else "smartload (pending)"
        else:
            owner = "evcc"
        if intent is None and observed is None:
            continue
        out.append({"key": key, "loadpoint": lp_id,
                    "wallbox": None if lp_id is None else wallbox_name(state, lp_id),
                    "setting": key.split(".", 1)[-1], "observed": observed,
                    "desired": intent.value if intent else None, "reason": intent.reason if intent else None,
                    "owner": owner, "paused_since": iso(paused.at) if paused else None})
    return out


def simulator_view(system: System) -> SimulatorView | None:
    """Only the embedded simulator runs smartload on a sped-up clock (service._evcc)."""
    scheduler = system.scheduler
    return {"speed": scheduler.speed} if isinstance(scheduler, ScaledAsyncIOScheduler) else None


def health_view(system: System) -> HealthView:
    health, planning = system.live.health, system.planning
    error = health.last_error
    return {"now": iso(system.now), "evcc_reachable": health.evcc_reachable, "last_poll_at": iso(health.last_poll_at),
            "last_tick_at": iso(health.last_tick_at), "last_plan_at": iso(health.last_plan_at),
            "last_plan_status": health.last_plan_status, "last_solve_s": _r(health.last_solve_s, 4),
            "last_error": None if error is None else {"at": iso(error.at), "kind": error.kind,
                                                      "message": error.message},
            # Why the plan is not acted on (evcc silent for two poll intervals), or None.
            "plan_stale": planning.stale, "planner_busy_s": _r(planning.solver.busy_s, 1),
            "left_out": dict(planning.left_out), "mode": system.settings.control.mode,
            "simulator": simulator_view(system)}


def event_view(event: Event) -> EventView:
    data: dict[str, Any] = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in event.data.items()}
    return {"at": iso(event.at), "kind": event.kind, "vehicle": event.vehicle, "text": event.text, "data": data}


def solar_scale_view(system: System) -> SolarScaleView | None:
    """The correction of the PV forecast the plans use now, or None while there is none."""
    correction = system.planning.sequencer.solar
    if correction is None or not correction.enabled:
        return None
    scale = correction.scale(system.now)
    return {"day": round(scale.day, 3), "now": round(scale.now, 3),
            "forecast_today_kwh": scale.forecast_kwh, "produced_today_kwh": scale.produced_kwh}


def live_view(system: System) -> LiveUpdate:
    """Everything but the plan and the event log: what changes on every poll."""
    return {"site": site_view(system.live.state), "vehicles": vehicle_views(system),
            "handoff": handoff_view(system), "evcc_settings": control_view(system), "health": health_view(system),
            "solar_scale": solar_scale_view(system)}


def dashboard_view(system: System, events: int = 50) -> DashboardView:
    recent = list(system.live.events)[-events:]
    live = live_view(system)
    return {"site": live["site"], "vehicles": live["vehicles"], "handoff": live["handoff"],
            "evcc_settings": live["evcc_settings"], "health": live["health"], "solar_scale": live["solar_scale"],
            "plan": system_plan_view(system),
            "timezone": system.settings.site.timezone, "events": [event_view(e) for e in reversed(recent)]}
