"""The ranges evcc's values can truly take, and `violations`, the check that a parsed
SiteState holds no other.

validate.py drops values outside these ranges while the parser builds a state; this
module judges the result, apart from the code that built it. It imports nothing from
smartload and reads states by their field names, so benchmarks/fuzz_parser.py can judge
an older parser's states with it too.

Ranges, inclusive:
- every SoC and SoC limit (vehicle, battery, limit, buffer, priority), %: 0..100
- currents, A: 0..1000, and a loadpoint's minimum not above its maximum
- phasesConfigured 0..3 (0: evcc switches phases itself), phasesActive 1..3
- capacities, kWh: vehicles 0.01..1,000, batteries 0.01..100,000
- powers, W: -10 MW..10 MW; the solar forecast 0..10 MW
- session energy, Wh: 0..1e9
- prices and price limits, currency/kWh: -10,000..10,000 (wide enough for every currency)
- temperatures of heating devices, °C: -50..150
- times (forecast slots, vehicle plans): within TIME_WINDOW (about 3 years) of the poll
- a car's SoC of exactly 0 is evcc's "no reading", and a device (heat pump) has no SoC
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple


class Bounds(NamedTuple):
    low: float
    high: float


SOC_PCT = Bounds(0.0, 100.0)
CURRENT_A = Bounds(0.0, 1000.0)
PHASES_CONFIGURED = Bounds(0, 3)
PHASES_ACTIVE = Bounds(1, 3)
VEHICLE_KWH = Bounds(0.01, 1000.0)
BATTERY_KWH = Bounds(0.01, 100_000.0)
POWER_W = Bounds(-1e7, 1e7)
SOLAR_W = Bounds(0.0, 1e7)
ENERGY_WH = Bounds(0.0, 1e9)
PRICE = Bounds(-10_000.0, 10_000.0)
TEMPERATURE_C = Bounds(-50.0, 150.0)
LOADPOINT_ID = Bounds(1, 10_000)
TIME_WINDOW = timedelta(days=3 * 366)

# Every number a SiteState can hold, by class and field name. A numeric field missing
# here is itself reported by `violations`, so a new field cannot slip past the ranges.
FIELD_BOUNDS: dict[tuple[str, str], Bounds] = {
    ("SiteState", "grid_power_w"): POWER_W,
    ("SiteState", "pv_power_w"): POWER_W,
    ("SiteState", "home_power_w"): POWER_W,
    ("SiteState", "tariff_grid"): PRICE,
    ("SiteState", "tariff_feedin"): PRICE,
    ("BatteryState", "power_w"): POWER_W,
    ("BatteryState", "soc_pct"): SOC_PCT,
    ("BatteryState", "capacity_kwh"): BATTERY_KWH,
    ("BatteryState", "grid_charge_limit"): PRICE,
    ("BatteryState", "buffer_soc_pct"): SOC_PCT,
    ("BatteryState", "buffer_start_soc_pct"): SOC_PCT,
    ("BatteryState", "priority_soc_pct"): SOC_PCT,
    ("LoadpointState", "id"): LOADPOINT_ID,
    ("LoadpointState", "charge_power_w"): POWER_W,
    ("LoadpointState", "vehicle_soc_pct"): SOC_PCT,
    ("LoadpointState", "limit_soc_pct"): SOC_PCT,
    ("LoadpointState", "effective_limit_soc_pct"): SOC_PCT,
    ("LoadpointState", "min_current_a"): CURRENT_A,
    ("LoadpointState", "max_current_a"): CURRENT_A,
    ("LoadpointState", "phases_configured"): PHASES_CONFIGURED,
    ("LoadpointState", "phases_active"): PHASES_ACTIVE,
    ("LoadpointState", "smart_cost_limit"): PRICE,
    ("LoadpointState", "session_energy_wh"): ENERGY_WH,
    ("LoadpointState", "temperature_c"): TEMPERATURE_C,
    ("LoadpointState", "target_temperature_c"): TEMPERATURE_C,
    ("VehicleInfo", "capacity_kwh"): VEHICLE_KWH,
    ("VehicleInfo", "min_soc_pct"): SOC_PCT,
    ("VehicleInfo", "limit_soc_pct"): SOC_PCT,
    ("VehicleInfo", "plan_soc_pct"): SOC_PCT,
}
RATE_BOUNDS = {"grid": PRICE, "feedin": PRICE, "solar": SOLAR_W}

_SHOWN_CHARS = 40


def shown(value: Any) -> str:
    """A value as a person reads it in a log line: whole floats without ".0", cut at 40 chars."""
    if type(value) is float and value.is_integer() and abs(value) < 1e16:
        text = str(int(value))
    elif type(value) is int and value.bit_length() > 128:
        text = f"an integer of {value.bit_length()} bits"
    else:
        text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def violations(state: Any) -> list[str]:
    """Every value of a parsed SiteState outside its range, one line each; [] when all
    are sane. It walks the finished dataclasses, so it also catches a field the builders
    forgot and values a memo carried over."""
    found: list[str] = []
    low, high = state.at - TIME_WINDOW, state.at + TIME_WINDOW
    for name, item in _parts(state):
        found += _field_violations(name, item)
        kind = type(item).__name__
        if kind == "LoadpointState":
            found += _loadpoint_violations(name, item)
        elif kind == "VehicleInfo" and item.plan_time is not None:
            found += _time_violations(f"{name}.plan_time", item.plan_time, low, high)
    for series, bounds in RATE_BOUNDS.items():
        for index, rate in enumerate(getattr(state.forecast, series)):
            where = f"forecast.{series}[{index}]"
            if not _within(rate.value, bounds):
                found.append(f"{where}.value = {shown(rate.value)}")
            if not rate.end > rate.start:
                found.append(f"{where}: ends at {rate.end} before its start {rate.start}")
            found += _time_violations(f"{where}.start", rate.start, low, high)
            found += _time_violations(f"{where}.end", rate.end, low, high)
    return found


def _parts(state: Any) -> Iterator[tuple[str, Any]]:
    yield "site", state
    if state.battery is not None:
        yield "battery", state.battery
    for lp in state.loadpoints:
        yield f"loadpoint {lp.id}", lp
    for name, vehicle in state.vehicles.items():
        yield f"vehicle {name}", vehicle


def _within(value: Any, bounds: Bounds) -> bool:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return is_number and math.isfinite(value) and bounds.low <= value <= bounds.high


def _field_violations(name: str, item: Any) -> list[str]:
    found = []
    kind = type(item).__name__
    assert is_dataclass(item)
    for field in fields(item):
        value = getattr(item, field.name)
        bounds = FIELD_BOUNDS.get((kind, field.name))
        if bounds is not None:
            if value is not None and not _within(value, bounds):
                found.append(f"{name}.{field.name} = {shown(value)}")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found.append(f"{name}.{field.name} = {shown(value)}: a number with no declared range")
    return found


def _loadpoint_violations(name: str, lp: Any) -> list[str]:
    found = []
    if lp.min_current_a is not None and lp.max_current_a is not None and lp.min_current_a > lp.max_current_a:
        found.append(f"{name}: min_current_a {shown(lp.min_current_a)} above max_current_a {shown(lp.max_current_a)}")
    if lp.vehicle_soc_pct == 0:
        found.append(f"{name}.vehicle_soc_pct = 0: evcc's value for no reading, not a SoC")
    if getattr(lp, "is_device", False) and (lp.vehicle_soc_pct is not None or lp.vehicle_name is not None):
        found.append(f"{name}: a device with a vehicle or a SoC")
    return found


def _time_violations(name: str, at: datetime, low: datetime, high: datetime) -> list[str]:
    if at.utcoffset() != timedelta(0):
        return [f"{name} = {at.isoformat()}: not UTC"]
    if not low <= at <= high:
        return [f"{name} = {at.isoformat()}: beyond {TIME_WINDOW.days} days of the poll"]
    return []
