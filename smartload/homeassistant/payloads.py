"""The state messages: the site, the plan summary and each car, as flat JSON for templates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smartload.system import System
from smartload.timefmt import iso, parse_iso
from smartload.views import handoff_view, health_view, vehicle_views

if TYPE_CHECKING:
    from smartload.planner import Plan


def site_payload(system: System) -> dict[str, Any]:
    health, handoff, state = health_view(system), handoff_view(system), system.live.state
    return {"evcc_reachable": health["evcc_reachable"], "last_poll_at": health["last_poll_at"],
            "last_tick_at": health["last_tick_at"], "plan_status": health["last_plan_status"],
            "handoff": handoff["message"] if handoff else None,
            "handoff_vehicle": handoff["vehicle"] if handoff else None,
            "handoff_by": handoff["by"] if handoff else None,
            "grid_power_w": state.grid_power_w if state else None, "pv_power_w": state.pv_power_w if state else None}


def plan_payload(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {"status": plan.status, "created_at": iso(plan.created_at), "cost_eur": round(plan.cost_eur, 2),
            "solve_time_s": round(plan.solve_time_s, 3), "horizon_end": iso(plan.horizon_end),
            "cars": {v: {"projected_soc_pct": None if c.final_soc_pct is None else round(c.final_soc_pct, 1),
                         "shortfall_kwh": round(c.shortfall_kwh, 2), "energy_kwh": round(c.energy_charged_kwh, 2),
                         "cost_eur": round(c.cost_eur, 2)} for v, c in plan.cars.items()}}


def vehicle_payloads(system: System) -> dict[str, dict[str, Any]]:
    tz = system.settings.site.tz
    out = {}
    for view in vehicle_views(system):
        soc, request, plan = view["soc"], view["request"], view["plan"]
        departure = parse_iso(request["departure"]) if request else None
        out[view["id"]] = {
            "soc_pct": soc["soc_pct"] if soc else None, "soc_source": soc["source"] if soc else None,
            "soc_measured_at": soc["measured_at"] if soc else None,
            "soc_age_min": round(soc["age_s"] / 60) if soc else None,
            "target_soc_pct": request["target_soc_pct"] if request else None,
            "departure": request["departure"] if request else None,
            "departure_local": departure.astimezone(tz).strftime("%H:%M") if departure else None,
            "request_source": request["source"] if request else None,
            "projected_soc_pct": plan["projected_soc_pct"] if plan else None,
            "shortfall_kwh": plan["shortfall_kwh"] if plan else None,
            "plugged": view["loadpoint"] is not None, "boost_until": view["boost_until"]}
    return out
