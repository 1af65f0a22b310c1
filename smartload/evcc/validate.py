"""The ranges evcc's values can truly take, and the check that nothing else gets through.

evcc's API promises types, not ranges. A misconfigured meter, a broken template or a
damaged body can carry a SoC of 140 %, a maximum current of -16 A or a forecast point in
year 9999, and the planner would fail on every snapshot (or, for a car "at 140 %", end
its request as "target reached"). So the builders (normalise.py, forecast.py) pass each
number through `bounded`: a value outside its range becomes unknown (None) and a
ValueProblem records where it was in evcc's body and what it was; the rest of the state
is used. `violations` walks a finished SiteState and lists every value outside the same
ranges: the tests and benchmarks/fuzz_parser.py judge the parser with it.

Ranges, inclusive:
- every SoC and SoC limit (vehicle, battery, limit, buffer, priority), %: 0..100
- currents, A: 0..1000; a minCurrent above maxCurrent is dropped and maxCurrent kept,
  since maxCurrent is the limit that protects the wallbox and its cable
- phasesConfigured 0..3 (0: evcc switches phases itself), phasesActive 1..3
- capacities, kWh: vehicles 0.01..1,000, batteries 0.01..100,000; 0 is evcc's "unset"
  and becomes None without a problem
- powers, W: -10 MW..10 MW; the solar forecast 0..10 MW
- session energy, Wh: 0..1e9
- prices and price limits, currency/kWh: -10,000..10,000 (wide enough for every currency)
- temperatures of heating devices, °C: -50..150
- times (forecast slots, vehicle plans): within TIME_WINDOW (about 3 years) of the poll,
  so that no later step adding a duration can overflow
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from smartload.domain import BatteryState, LoadpointState, SiteState, ValueProblem, VehicleInfo


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

# Every number a SiteState can hold, by class and field. A numeric field missing here is
# itself reported by `violations`, so a new field cannot slip past the ranges.
FIELD_BOUNDS: dict[tuple[type, str], Bounds] = {
    (SiteState, "grid_power_w"): POWER_W,
    (SiteState, "pv_power_w"): POWER_W,
    (SiteState, "home_power_w"): POWER_W,
    (SiteState, "tariff_grid"): PRICE,
    (SiteState, "tariff_feedin"): PRICE,
    (BatteryState, "power_w"): POWER_W,
    (BatteryState, "soc_pct"): SOC_PCT,
    (BatteryState, "capacity_kwh"): BATTERY_KWH,
    (BatteryState, "grid_charge_limit"): PRICE,
    (BatteryState, "buffer_soc_pct"): SOC_PCT,
    (BatteryState, "buffer_start_soc_pct"): SOC_PCT,
    (BatteryState, "priority_soc_pct"): SOC_PCT,
    (LoadpointState, "id"): LOADPOINT_ID,
    (LoadpointState, "charge_power_w"): POWER_W,
    (LoadpointState, "vehicle_soc_pct"): SOC_PCT,
    (LoadpointState, "limit_soc_pct"): SOC_PCT,
    (LoadpointState, "effective_limit_soc_pct"): SOC_PCT,
    (LoadpointState, "min_current_a"): CURRENT_A,
    (LoadpointState, "max_current_a"): CURRENT_A,
    (LoadpointState, "phases_configured"): PHASES_CONFIGURED,
    (LoadpointState, "phases_active"): PHASES_ACTIVE,
    (LoadpointState, "smart_cost_limit"): PRICE,
    (LoadpointState, "session_energy_wh"): ENERGY_WH,
    (LoadpointState, "temperature_c"): TEMPERATURE_C,
    (LoadpointState, "target_temperature_c"): TEMPERATURE_C,
    (VehicleInfo, "capacity_kwh"): VEHICLE_KWH,
    (VehicleInfo, "min_soc_pct"): SOC_PCT,
    (VehicleInfo, "limit_soc_pct"): SOC_PCT,
    (VehicleInfo, "plan_soc_pct"): SOC_PCT,
}
RATE_BOUNDS = {"grid": PRICE, "feedin": PRICE, "solar": SOLAR_W}

_SHOWN_CHARS = 40
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def shown(value: Any) -> str:
    """A value as a person reads it in a log line: whole floats without ".0", cut at 40 chars."""
    if type(value) is float and value.is_integer() and abs(value) < 1e16:
        text = str(int(value))
    elif type(value) is int and value.bit_length() > 128:
        text = f"an integer of {value.bit_length()} bits"
    else:
        text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def key_path(where: str, key: str) -> str:
    """`where.key` in jq syntax: `vehicles.vehicle_1`, but `vehicles["db:69"]`."""
    if _NAME.fullmatch(key):
        return f"{where}.{key}" if where else key
    return f'{where}["{key}"]' if len(key) <= _SHOWN_CHARS else f'{where}["{key[:_SHOWN_CHARS - 1]}…"]'


def bounded(value: Any, bounds: Bounds, where: str, key: str, problems: list[ValueProblem]) -> Any:
    """`value` if it is None or within `bounds`; else None, with a problem at `where.key`."""
    if value is None or bounds.low <= value <= bounds.high:
        return value
    problems.append(ValueProblem(key_path(where, key), shown(value)))
    return None


def window(at: datetime) -> tuple[datetime, datetime]:
    """The times a value seen at `at` may name, clamped to what datetime can hold."""
    low = at - TIME_WINDOW if at.year > 4 else datetime.min.replace(tzinfo=UTC)
    high = at + TIME_WINDOW if at.year < 9996 else datetime.max.replace(tzinfo=UTC)
    return low, high


def polls_covering(first: datetime, last: datetime) -> tuple[datetime, datetime]:
    """The poll times whose window holds both `first` and `last`: a remembered result
    holding such times is checked against a new poll with two comparisons."""
    earliest = last - TIME_WINDOW if last.year > 4 else datetime.min.replace(tzinfo=UTC)
    latest = first + TIME_WINDOW if first.year < 9996 else datetime.max.replace(tzinfo=UTC)
    return earliest, latest


ALL_POLLS = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))


def violations(state: SiteState) -> list[str]:
    """Every value of `state` outside its range, one line each; [] when all are sane.

    Written apart from the builders: it walks the finished dataclasses, so it also
    catches a field the builders forgot and values a memo carried over.
    """
    found: list[str] = []
    low, high = window(state.at)
    for name, item in _parts(state):
        found += _field_violations(name, item)
        if isinstance(item, LoadpointState):
            found += _loadpoint_violations(name, item)
        elif isinstance(item, VehicleInfo) and item.plan_time is not None:
            found += _time_violations(f"{name}.plan_time", item.plan_time, low, high)
    for kind, bounds in RATE_BOUNDS.items():
        for index, rate in enumerate(getattr(state.forecast, kind)):
            where = f"forecast.{kind}[{index}]"
            if not _within(rate.value, bounds):
                found.append(f"{where}.value = {shown(rate.value)}")
            if not rate.end > rate.start:
                found.append(f"{where}: ends at {rate.end} before its start {rate.start}")
            found += _time_violations(f"{where}.start", rate.start, low, high)
            found += _time_violations(f"{where}.end", rate.end, low, high)
    return found


def _parts(state: SiteState) -> Iterator[tuple[str, Any]]:
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
    kind = type(item)
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


def _loadpoint_violations(name: str, lp: LoadpointState) -> list[str]:
    found = []
    if lp.min_current_a is not None and lp.max_current_a is not None and lp.min_current_a > lp.max_current_a:
        found.append(f"{name}: min_current_a {lp.min_current_a} above max_current_a {lp.max_current_a}")
    if lp.vehicle_soc_pct == 0:
        found.append(f"{name}.vehicle_soc_pct = 0: evcc's value for no reading, not a SoC")
    if lp.is_device and (lp.vehicle_soc_pct is not None or lp.vehicle_name is not None):
        found.append(f"{name}: a device with a vehicle or a SoC")
    return found


def _time_violations(name: str, at: datetime, low: datetime, high: datetime) -> list[str]:
    if at.utcoffset() != timedelta(0):
        return [f"{name} = {at.isoformat()}: not UTC"]
    if not low <= at <= high:
        return [f"{name} = {at.isoformat()}: beyond {TIME_WINDOW.days} days of the poll"]
    return []
