"""evcc's validated raw values as domain dataclasses, each number checked for its range.

Every number passes validate.bounded: out of range, it becomes unknown and a
ValueProblem says where it was (ranges.py lists the ranges). Two evcc habits are read
here:

- A car's `vehicleSoc` of 0 is unknown, not empty. evcc is written in Go, where 0 is the
  value of a number nobody set: evcc shows 0 for a guest, for a car whose template reads
  no SoC (`vehicles.<name>.features` holds "Offline"), and before the first reading after
  a car was identified. A car truly at 0.0 % is all but unheard of at a wallbox (cars
  keep a reserve below their displayed 0 %); taking it as unknown costs at most a cloud
  refresh, while taking evcc's "no reading" as empty would plan a full charge for a car
  that may be full. So the rule holds with or without a feature list.
- A loadpoint with `chargerFeatureHeating` or `chargerFeatureIntegratedDevice` is a
  device (heat pump, heating rod), not a wallbox: it has no vehicle and no SoC. At a
  heating device `vehicleSoc` is a temperature (°C) and `vehicleLimitSoc` its target, as
  are `limitSoc` and `effectiveLimitSoc`, which are therefore not read as percentages.
  A temperature of 0 is Go's zero again: unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartload.domain import BatteryState, ChargeMode, LoadpointState, ValueProblem, VehicleInfo
from smartload.evcc import raw as r
from smartload.evcc.ranges import (
    BATTERY_KWH,
    CURRENT_A,
    ENERGY_WH,
    PHASES_ACTIVE,
    PHASES_CONFIGURED,
    POWER_W,
    PRICE,
    SOC_PCT,
    TEMPERATURE_C,
    VEHICLE_KWH,
    shown,
)
from smartload.evcc.validate import bounded, key_path

_MODES: dict[Any, ChargeMode] = {mode.value: mode for mode in ChargeMode}


def loadpoint(index: int, lp: dict[str, Any], problems: list[ValueProblem]) -> LoadpointState:
    """Loadpoint `index` (0-based, as in the body) of a validated state."""
    get, where = lp.get, f"loadpoints[{index}]"
    heating = bool(get("chargerFeatureHeating"))
    device = heating or bool(get("chargerFeatureIntegratedDevice"))
    soc = get("vehicleSoc")
    min_a = bounded(get("minCurrent"), CURRENT_A, where, "minCurrent", problems)
    max_a = bounded(get("maxCurrent"), CURRENT_A, where, "maxCurrent", problems)
    if min_a is not None and max_a is not None and min_a > max_a:
        problems.append(ValueProblem(f"{where}.minCurrent", f"{shown(min_a)} (above maxCurrent {shown(max_a)})"))
        min_a = None
    percent = not heating  # at a heating device the SoC fields hold temperatures
    return LoadpointState(
        id=index + 1,
        title=get("title") or "",
        mode=_MODES.get(get("mode")),  # unknown modes are None, not an error
        connected=bool(get("connected")),
        charging=bool(get("charging")),
        enabled=bool(get("enabled")),
        charge_power_w=bounded(get("chargePower"), POWER_W, where, "chargePower", problems),
        vehicle_name=None if device else get("vehicleName"),
        vehicle_title=None if device else get("vehicleTitle"),
        vehicle_detection_active=bool(get("vehicleDetectionActive")),
        vehicle_soc_pct=bounded(soc or None, SOC_PCT, where, "vehicleSoc", problems) if not device else None,
        limit_soc_pct=bounded(get("limitSoc"), SOC_PCT, where, "limitSoc", problems) if percent else None,
        effective_limit_soc_pct=(
            bounded(get("effectiveLimitSoc"), SOC_PCT, where, "effectiveLimitSoc", problems) if percent else None
        ),
        min_current_a=min_a,
        max_current_a=max_a,
        phases_configured=bounded(get("phasesConfigured"), PHASES_CONFIGURED, where, "phasesConfigured", problems),
        phases_active=bounded(get("phasesActive"), PHASES_ACTIVE, where, "phasesActive", problems),
        smart_cost_limit=bounded(get("smartCostLimit"), PRICE, where, "smartCostLimit", problems),
        session_energy_wh=bounded(get("sessionEnergy"), ENERGY_WH, where, "sessionEnergy", problems),
        disabled=bool(get("disabled")),
        heating=heating,
        integrated_device=bool(get("chargerFeatureIntegratedDevice")),
        temperature_c=bounded(soc or None, TEMPERATURE_C, where, "vehicleSoc", problems) if heating else None,
        target_temperature_c=(
            bounded(get("vehicleLimitSoc") or None, TEMPERATURE_C, where, "vehicleLimitSoc", problems)
            if heating else None
        ),
    )


def battery(site: Mapping[str, Any], problems: list[ValueProblem]) -> BatteryState | None:
    """The home battery in any layout: flat keys before 0.301 (with a `battery` list of
    devices), one `battery` object since. Values out of range are dropped before several
    batteries are summed, and a dropped object value falls back to the flat key."""
    devices, controllable = site.get("battery"), None
    power = soc = capacity = None
    if isinstance(devices, dict):  # 0.301 and later: one object for all batteries
        power = bounded(r.number(devices.get("power")), POWER_W, "battery", "power", problems)
        soc = bounded(r.number(devices.get("soc")), SOC_PCT, "battery", "soc", problems)
        capacity = bounded(r.number(devices.get("capacity")) or None, BATTERY_KWH, "battery", "capacity", problems)
        listed = devices.get("devices")
        controllable = _controllable(listed if isinstance(listed, list) else [])
    if power is None:
        power = bounded(site.get("batteryPower"), POWER_W, "", "batteryPower", problems)
    if soc is None:
        soc = bounded(site.get("batterySoc"), SOC_PCT, "", "batterySoc", problems)
    if capacity is None:
        capacity = bounded(site.get("batteryCapacity") or None, BATTERY_KWH, "", "batteryCapacity", problems)
    if isinstance(devices, list):  # before 0.301; the list is read only for what the flat keys lack
        if None in (power, soc, capacity):
            listed = _checked_devices(devices, problems)
            powers = [p for d in listed if (p := d["power"]) is not None]
            capacities = [c for d in listed if (c := d["capacity"]) is not None]
            # Each device is in range; their sum may still not be.
            power = _first(power, bounded(sum(powers), POWER_W, "battery[]", "power", problems) if powers else None)
            capacity = _first(capacity, bounded(sum(capacities), BATTERY_KWH, "battery[]", "capacity", problems)
                              if capacities else None)
            soc = _first(soc, _mean_soc(listed))
        controllable = _controllable(devices)
    if power is None and soc is None and capacity is None:
        return None
    return BatteryState(
        power_w=power,
        soc_pct=soc,
        capacity_kwh=capacity,
        mode=site.get("batteryMode"),
        discharge_control=site.get("batteryDischargeControl"),
        grid_charge_limit=bounded(site.get("batteryGridChargeLimit"), PRICE, "", "batteryGridChargeLimit", problems),
        buffer_soc_pct=bounded(site.get("bufferSoc"), SOC_PCT, "", "bufferSoc", problems),
        buffer_start_soc_pct=bounded(site.get("bufferStartSoc"), SOC_PCT, "", "bufferStartSoc", problems),
        priority_soc_pct=bounded(site.get("prioritySoc"), SOC_PCT, "", "prioritySoc", problems),
        controllable=controllable,
    )


def _checked_devices(devices: list[Any], problems: list[ValueProblem]) -> list[dict[str, float | None]]:
    checked = []
    for index, device in enumerate(devices):
        if isinstance(device, dict):
            where = f"battery[{index}]"
            checked.append({
                "power": bounded(r.number(device.get("power")), POWER_W, where, "power", problems),
                "soc": bounded(r.number(device.get("soc")), SOC_PCT, where, "soc", problems),
                "capacity": bounded(r.number(device.get("capacity")) or None, BATTERY_KWH, where, "capacity",
                                    problems),
            })
    return checked


def _controllable(devices: list[Any]) -> bool | None:
    """False if any battery says it cannot be controlled, True if all that say anything can."""
    said = [d["controllable"] for d in devices if isinstance(d, dict) and type(d.get("controllable")) is bool]
    return all(said) if said else None


def _mean_soc(devices: list[dict[str, float | None]]) -> float | None:
    """Capacity-weighted SoC of several batteries; the plain mean if a capacity is missing."""
    pairs = [(s, d["capacity"]) for d in devices if (s := d["soc"]) is not None]
    if not pairs:
        return None
    if all(c for _, c in pairs):
        return sum(s * c for s, c in pairs if c) / sum(c for _, c in pairs if c)
    return sum(s for s, _ in pairs) / len(pairs)


def vehicle(name: str, raw: dict[str, Any], problems: list[ValueProblem]) -> VehicleInfo:
    """An entry of the vehicles map. Its plan time is checked against the poll later
    (it depends on the poll's time, the rest does not)."""
    plan = raw.get("plan") or {}
    where = key_path("vehicles", name)
    return VehicleInfo(
        name=name,
        title=raw.get("title") or "",
        capacity_kwh=bounded(raw.get("capacity") or None, VEHICLE_KWH, where, "capacity", problems),
        min_soc_pct=bounded(raw.get("minSoc"), SOC_PCT, where, "minSoc", problems),
        limit_soc_pct=bounded(raw.get("limitSoc"), SOC_PCT, where, "limitSoc", problems),
        plan_soc_pct=bounded(plan.get("soc"), SOC_PCT, f"{where}.plan", "soc", problems),
        plan_time=r.utc_time(plan.get("time")),
        features=tuple(f for f in raw.get("features") or () if f is not None),
    )


def _first(a: float | None, b: float | None) -> float | None:
    return b if a is None else a
