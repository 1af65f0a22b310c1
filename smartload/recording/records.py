"""Plain JSON-ready views of pipeline values, shared by the decision log and reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smartload.domain import ConnectionEdge, RefreshOutcome, Snapshot, SocReading, Tariffs
from smartload.sinks.actuator import NotApplied, Override
from smartload.timefmt import iso


def override_record(override: Override) -> dict[str, Any]:
    """A manual change in evcc the actuator detected, as the replay and what-if reports list it."""
    return {"at": iso(override.at), "loadpoint": override.loadpoint_id, "setting": override.key,
            "written": override.written, "observed": override.observed}


def not_applied_record(notice: NotApplied) -> dict[str, Any]:
    """A write evcc accepted and did not apply, as the replay and what-if reports list it."""
    return {"at": iso(notice.at), "setting": notice.key, "written": notice.written, "observed": notice.observed}


def soc_record(reading: SocReading, now: datetime) -> dict[str, Any]:
    return {
        "soc_pct": reading.soc_pct,
        "source": reading.source,
        "measured_at": iso(reading.measured_at) if reading.measured_at_known else None,
        "first_seen_at": None if reading.measured_at_known else iso(reading.measured_at),
        "age_s": round(reading.age_s(now), 1) if reading.measured_at_known else None,
    }


def _horizon(tariffs: Tariffs, now: datetime) -> dict[str, Any]:
    future = [r for r in tariffs.grid if r.end > now]
    current = next((r.value for r in future if r.start <= now), None)
    return {
        "grid_price_now": current,
        "grid_slots": len(future),
        "horizon_end": iso(future[-1].end) if future else None,
        "grid_price_min": min((r.value for r in future), default=None),
        "grid_price_max": max((r.value for r in future), default=None),
        "feedin_slots": sum(1 for r in tariffs.feedin if r.end > now),
        "solar_slots": sum(1 for r in tariffs.solar if r.end > now),
    }


def snapshot_record(snapshot: Snapshot) -> dict[str, Any]:
    """Everything a planner decides from, in one flat-ish JSON object."""
    state = snapshot.state
    record: dict[str, Any] = {
        "at": iso(snapshot.at),
        "reason": snapshot.reason,
        "evcc": None,
        "tariffs": _horizon(snapshot.tariffs, snapshot.at),
        "socs": {v: soc_record(r, snapshot.at) for v, r in sorted(snapshot.socs.items())},
        "last_error": None,
    }
    if snapshot.last_error is not None:
        record["last_error"] = {
            "at": iso(snapshot.last_error.at),
            "kind": snapshot.last_error.kind,
            "message": snapshot.last_error.message,
        }
    if state is not None:
        battery = state.battery
        record["evcc"] = {
            "polled_at": iso(state.at),
            "version": state.version,
            "grid_power_w": state.grid_power_w,
            "pv_power_w": state.pv_power_w,
            "home_power_w": state.home_power_w,
            "battery_soc_pct": battery.soc_pct if battery else None,
            "battery_power_w": battery.power_w if battery else None,
            "battery_mode": battery.mode if battery else None,
            "loadpoints": [
                {
                    "id": lp.id,
                    "connected": lp.connected,
                    "charging": lp.charging,
                    "vehicle": lp.vehicle_name,
                    # A heat pump or heating rod evcc drives (never a car), else None.
                    "device": lp.device_kind,
                    "identifying": lp.vehicle_detection_active,
                    "mode": lp.mode.value if lp.mode else None,
                    "power_w": lp.charge_power_w,
                    "limit_soc_pct": lp.limit_soc_pct,
                }
                for lp in state.loadpoints
            ],
        }
    return record


def edge_record(edge: ConnectionEdge) -> dict[str, Any]:
    return {
        "vehicle": edge.vehicle,
        "loadpoint": edge.loadpoint_id,
        "reason": edge.reason,
        "plugged_at": iso(edge.plugged_at),
        "at": iso(edge.at),
    }


def refresh_record(outcome: RefreshOutcome) -> dict[str, Any]:
    reading = outcome.reading
    return {
        "vehicle": outcome.vehicle,
        "edge_at": iso(outcome.edge_at),
        "requested_at": iso(outcome.requested_at),
        "finished_at": iso(outcome.finished_at),
        "status": outcome.status,
        "reason": outcome.reason,
        "edge": outcome.edge_reason,
        "retry": outcome.retry,
        "soc_pct": reading.soc_pct if reading else None,
        "source": reading.source if reading else None,
        "measured_at": iso(reading.measured_at) if reading else None,
        "error": outcome.error,
    }
