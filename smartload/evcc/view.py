"""The normalised JSON view of one evcc state, as `smartload inspect` prints it.

It shows what smartload understood of a body, whatever evcc version wrote it: the same
keys for every layout, units in the names, times in RFC3339 UTC with Z. A loadpoint that
is a device (heat pump, heating rod) says so under "device" and shows temperatures, not
a SoC; "problems" lists the impossible values the parser ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from smartload.domain import BatteryState, LoadpointState, PollError, Rate, SiteState, VehicleInfo
from smartload.evcc.state import StateParser
from smartload.timefmt import iso


def _horizon(rates: Sequence[Rate], unit: str) -> dict[str, Any]:
    values = [rate.value for rate in rates]
    return {
        "slots": len(rates),
        "first_start": iso(rates[0].start) if rates else None,
        "last_end": iso(max(rate.end for rate in rates)) if rates else None,
        "min": min(values) if values else None,
        "max": max(values) if values else None,
        "unit": unit,
    }


def _battery(battery: BatteryState | None) -> dict[str, Any] | None:
    if battery is None:
        return None
    return {
        "power_w": battery.power_w,
        "soc_pct": battery.soc_pct,
        "capacity_kwh": battery.capacity_kwh,
        "mode": battery.mode,
        "discharge_control": battery.discharge_control,
        "grid_charge_limit": battery.grid_charge_limit,
        "buffer_soc_pct": battery.buffer_soc_pct,
        "buffer_start_soc_pct": battery.buffer_start_soc_pct,
        "priority_soc_pct": battery.priority_soc_pct,
        "controllable": battery.controllable,
    }


def _loadpoint(lp: LoadpointState) -> dict[str, Any]:
    return {
        "id": lp.id,
        "title": lp.title,
        "device": lp.device_kind,
        "vehicle": lp.vehicle_name,
        "vehicle_title": lp.vehicle_title,
        "guest": lp.is_guest,
        "detection_active": lp.vehicle_detection_active,
        "identified_vehicle": lp.identified_vehicle,
        "disabled": lp.disabled,
        "connected": lp.connected,
        "charging": lp.charging,
        "enabled": lp.enabled,
        "charge_power_w": lp.charge_power_w,
        "soc_pct": lp.vehicle_soc_pct,
        "mode": lp.mode.value if lp.mode is not None else None,
        "limit_soc_pct": lp.limit_soc_pct,
        "effective_limit_soc_pct": lp.effective_limit_soc_pct,
        "min_current_a": lp.min_current_a,
        "max_current_a": lp.max_current_a,
        "phases_configured": lp.phases_configured,
        "phases_active": lp.phases_active,
        "smart_cost_limit": lp.smart_cost_limit,
        "session_energy_wh": lp.session_energy_wh,
        "temperature_c": lp.temperature_c,
        "target_temperature_c": lp.target_temperature_c,
    }


def _vehicle(vehicle: VehicleInfo) -> dict[str, Any]:
    plan = None
    if vehicle.plan_soc_pct is not None or vehicle.plan_time is not None:
        plan = {"soc_pct": vehicle.plan_soc_pct, "time": iso(vehicle.plan_time)}
    return {
        "title": vehicle.title,
        "capacity_kwh": vehicle.capacity_kwh,
        "min_soc_pct": vehicle.min_soc_pct,
        "limit_soc_pct": vehicle.limit_soc_pct,
        "plan": plan,
        "features": list(vehicle.features),
    }


def normalised_view(state: SiteState) -> dict[str, Any]:
    """A JSON-ready dict of everything smartload reads from one evcc state."""
    price_unit = f"{state.currency or 'currency'}/kWh"
    forecast = state.forecast
    return {
        "at": iso(state.at),
        "evcc_version": state.version,
        "currency": state.currency,
        "site": {
            "grid_power_w": state.grid_power_w,
            "pv_power_w": state.pv_power_w,
            "home_power_w": state.home_power_w,
        },
        "battery": _battery(state.battery),
        "tariffs": {
            "grid_price": state.tariff_grid,
            "feedin_price": state.tariff_feedin,
            "forecast": {
                "grid": _horizon(forecast.grid, price_unit),
                "feedin": _horizon(forecast.feedin, price_unit),
                "solar": _horizon(forecast.solar, "W"),
            },
        },
        "loadpoints": [_loadpoint(lp) for lp in state.loadpoints],
        "vehicles": {name: _vehicle(vehicle) for name, vehicle in sorted(state.vehicles.items())},
        "problems": [{"path": p.path, "value": p.value} for p in state.problems],
    }


def inspect_file(path: Path) -> dict[str, Any]:
    """The normalised view of a state file (a `/api/state` body or a websocket frame).

    The state is stamped with the file's modification time. Raises ValueError
    ("<path>: not an evcc state: <why>") for a file that is unreadable or not a state.
    """
    try:
        body = path.read_bytes()
        at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as exc:
        raise ValueError(f"{path}: not an evcc state: cannot read it ({exc.strerror or exc})") from exc
    poll = StateParser().parse_state(body, at)
    if isinstance(poll, PollError):
        message = poll.message
        if not message.startswith("not an evcc state"):
            message = f"not an evcc state: {message}"
        raise ValueError(f"{path}: {message}")
    return normalised_view(poll)
