"""evcc's raw JSON shapes, declared only as far as smartload reads them.

pydantic-core validates these straight from the response bytes. Undeclared keys are
skipped by the JSON scanner without building Python objects for them, which is why a
poll parses several times faster than `json.loads`. Every leaf is nullable: evcc sends
null for unset values, and the tolerant fallback in state.py nulls wrong-typed fields.

Key names are evcc's own (camelCase), so no aliases are needed. Layout differences
between evcc versions are listed in shared/reference/evcc-api.md §1.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from smartload.domain import Rate

# pydantic refuses typing.TypedDict before Python 3.12, hence typing_extensions.


class RawLoadpoint(TypedDict, total=False):
    title: str | None
    mode: str | None
    connected: bool | None
    charging: bool | None
    enabled: bool | None
    disabled: bool | None
    chargePower: float | None
    vehicleName: str | None
    vehicleTitle: str | None
    vehicleDetectionActive: bool | None
    vehicleSoc: float | None
    limitSoc: float | None
    effectiveLimitSoc: float | None
    minCurrent: float | None
    maxCurrent: float | None
    phasesConfigured: int | None
    phasesActive: int | None
    smartCostLimit: float | None
    sessionEnergy: float | None


class RawGrid(TypedDict, total=False):
    power: float | None


class RawVehiclePlan(TypedDict, total=False):
    soc: float | None
    time: datetime | None


class RawVehicle(TypedDict, total=False):
    title: str | None
    capacity: float | None
    minSoc: float | None
    limitSoc: float | None
    plan: RawVehiclePlan | None


class RawForecast(TypedDict, total=False):
    # Kept as plain JSON values: their shape changed in 0.314 (objects -> compact arrays),
    # and state.py memoises the conversion on the raw content.
    grid: Any
    feedin: Any
    solar: Any


class RawSiteBase(TypedDict, total=False):
    version: str | None
    currency: str | None
    siteTitle: str | None
    gridPower: float | None  # before 0.133
    grid: RawGrid | None  # 0.133 and later
    pvPower: float | None
    homePower: float | None
    battery: Any  # a list of devices before 0.301, one object since
    batteryPower: float | None  # before 0.301
    batterySoc: float | None
    batteryCapacity: float | None
    batteryMode: str | None
    batteryDischargeControl: bool | None
    batteryGridChargeLimit: float | None
    bufferSoc: float | None
    bufferStartSoc: float | None
    prioritySoc: float | None
    tariffGrid: float | None
    tariffFeedIn: float | None
    loadpoints: list[RawLoadpoint | None] | None
    vehicles: dict[str, RawVehicle | None] | None


class RawSite(RawSiteBase, total=False):
    forecast: RawForecast | None


class RawState(RawSite, total=False):
    result: RawSite | None  # every REST body was wrapped in {"result": ...} before 0.207


class RawStateLean(RawSiteBase, total=False):
    """RawState without the forecast, for polls whose forecast bytes are unchanged."""

    result: RawSiteBase | None


class RawLine(TypedDict, total=False):
    t: datetime | None
    state: RawState | None
    error: Any
    kind: Any


class RawLineLean(TypedDict, total=False):
    t: datetime | None
    state: RawStateLean | None
    error: Any
    kind: Any


STATE = TypeAdapter(RawState)
STATE_LEAN = TypeAdapter(RawStateLean)
LINE = TypeAdapter(RawLine)
LINE_LEAN = TypeAdapter(RawLineLean)

# Keys whose presence makes a body an evcc state (besides loadpoints).
SITE_KEYS = frozenset(RawSiteBase.__annotations__) - {"loadpoints"}

_ONE_HOUR = timedelta(hours=1)
_MAX_TS = 253_402_300_799  # 9999-12-31T23:59:59Z


def number(value: Any) -> float | None:
    """A finite JSON number as float; bools, strings and NaN are not numbers here."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
        return result if math.isfinite(result) else None
    return None


def utc_time(value: Any) -> datetime | None:
    """RFC3339 text, unix seconds or a datetime as an aware UTC datetime; else None.

    Naive times are taken as UTC; evcc's zero time (year 1) means "unset".
    """
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
        elif isinstance(value, datetime):
            parsed = value
        elif (seconds := number(value)) is not None and 0 <= seconds <= _MAX_TS:
            return datetime.fromtimestamp(seconds, UTC)
        else:
            return None
        if parsed.year <= 1:
            return None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _rate(entry: Any) -> Rate | None:
    if isinstance(entry, dict):
        start, end = entry.get("start"), entry.get("end")
        value = entry.get("value", entry.get("price"))  # "price" before evcc 0.203
    elif isinstance(entry, list | tuple) and len(entry) >= 3:
        start, end, value = entry[0], entry[1], entry[2]  # compact form since 0.314
    else:
        return None
    begin, finish, amount = utc_time(start), utc_time(end), number(value)
    if begin is None or finish is None or amount is None or finish <= begin:
        return None
    return Rate(begin, finish, amount)


def rates_from_raw(raw: Any) -> tuple[Rate, ...]:
    """Rates from a list of `{start,end,value|price}` objects or `[start,end,value]` arrays.

    Unusable entries are dropped, not fatal; the result is sorted by start.
    """
    if not isinstance(raw, list):
        return ()
    rates = [rate for entry in raw if (rate := _rate(entry)) is not None]
    rates.sort(key=lambda rate: rate.start)
    return tuple(rates)


def _point(entry: Any) -> tuple[datetime, float] | None:
    if isinstance(entry, dict):
        ts, value = entry.get("ts"), entry.get("val")
    elif isinstance(entry, list | tuple) and len(entry) >= 2:
        ts, value = entry[0], entry[1]  # [tsUnix, W] since 0.314
    else:
        return None
    at, watts = utc_time(ts), number(value)
    return None if at is None or watts is None else (at, watts)


def solar_from_raw(raw: Any) -> tuple[Rate, ...]:
    """The solar forecast in W as rates.

    evcc sends an object whose `timeseries` holds points (`{ts,val}`, or `[tsUnix, W]`
    since 0.314); each point lasts until the next one, the last as long as the one
    before it (an hour if it is alone). A plain list is read as rates.
    """
    if isinstance(raw, list):
        return rates_from_raw(raw)
    if not isinstance(raw, dict):
        return ()
    series = raw.get("timeseries")
    if not isinstance(series, list):
        return ()
    points = sorted({p[0]: p for entry in series if (p := _point(entry)) is not None}.values())
    rates: list[Rate] = []
    step = _ONE_HOUR
    for index, (at, watts) in enumerate(points):
        if index + 1 < len(points):
            step = points[index + 1][0] - at
        rates.append(Rate(at, at + step, watts))
    return tuple(rates)
