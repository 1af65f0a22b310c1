"""evcc's raw JSON: the shapes smartload reads, reading values without trusting them, and
saying in one line why a body is not a usable state.

pydantic-core validates these models straight from the response bytes. Undeclared keys
are skipped without building Python objects for them, which is why a poll parses
several times faster than `json.loads`. Every leaf is nullable: evcc sends null for
unset values, and the repair step (repair.null_at) nulls fields of the wrong type.
Numbers are strict: `true` or `"16"` is a wrong type, not 1.0 or 16.0. Types only: the
ranges a value must be in are checked while the state is built (normalise.py and
forecast.py, through validate.py).

Key names are evcc's own (camelCase), so no aliases are needed. Layout differences
between evcc versions are listed in shared/reference/evcc-api.md §1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, get_args

from pydantic import ConfigDict, Strict, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from smartload.domain import PollError, PollErrorKind

# A number too large for a float becomes inf when read from JSON but an error when read
# from Python; refusing inf makes both a wrong-typed field (None). The adapters below build
# their validators at their first use (defer_build), that is when the first poll's answer
# arrives, not at import: the service sends its first poll sooner.
_CONFIG = ConfigDict(allow_inf_nan=False, defer_build=True)

# Strict: an int is a number (as 1.0), a bool or a numeric string is not.
Num = Annotated[float, Strict()]
Int = Annotated[int, Strict()]


@with_config(_CONFIG)
class RawLoadpoint(TypedDict, total=False):
    title: str | None
    mode: str | None
    connected: bool | None
    charging: bool | None
    enabled: bool | None
    disabled: bool | None  # since 0.314.1
    chargePower: Num | None
    vehicleName: str | None  # "" is the guest vehicle
    vehicleTitle: str | None
    vehicleDetectionActive: bool | None
    vehicleSoc: Num | None  # a temperature (°C) at a heating device
    vehicleLimitSoc: Num | None  # read only at a heating device: its target temperature
    limitSoc: Num | None
    effectiveLimitSoc: Num | None
    minCurrent: Num | None
    maxCurrent: Num | None
    phasesConfigured: Int | None
    phasesActive: Int | None
    smartCostLimit: Num | None
    sessionEnergy: Num | None
    chargerFeatureHeating: bool | None  # a heat pump or heating rod, not a wallbox
    chargerFeatureIntegratedDevice: bool | None


@with_config(_CONFIG)
class RawGrid(TypedDict, total=False):
    power: Num | None


@with_config(_CONFIG)
class RawVehiclePlan(TypedDict, total=False):
    soc: Num | None
    time: datetime | None


@with_config(_CONFIG)
class RawVehicle(TypedDict, total=False):
    title: str | None
    capacity: Num | None
    minSoc: Num | None
    limitSoc: Num | None
    plan: RawVehiclePlan | None
    features: list[str | None] | None  # e.g. ["Offline"]: a template without SoC


@with_config(_CONFIG)
class RawForecast(TypedDict, total=False):
    # Plain JSON values: their shape changed in 0.314 (objects -> compact arrays).
    grid: Any
    feedin: Any
    solar: Any


@with_config(_CONFIG)
class RawSiteBase(TypedDict, total=False):
    version: str | None
    currency: str | None
    siteTitle: str | None
    gridPower: Num | None  # before 0.133
    grid: RawGrid | None  # 0.133 and later
    pvPower: Num | None
    homePower: Num | None
    battery: Any  # a list of devices before 0.301, one object since
    batteryPower: Num | None  # before 0.301
    batterySoc: Num | None
    batteryCapacity: Num | None
    batteryMode: str | None
    batteryDischargeControl: bool | None
    batteryGridChargeLimit: Num | None
    bufferSoc: Num | None
    bufferStartSoc: Num | None
    prioritySoc: Num | None
    tariffGrid: Num | None
    tariffFeedIn: Num | None
    solarAdjusted: bool | None  # the site's "adjust the solar forecast" switch (not in 0.207; in 0.313 on)
    loadpoints: list[RawLoadpoint | None] | None
    vehicles: dict[str, RawVehicle | None] | None


@with_config(_CONFIG)
class RawSite(RawSiteBase, total=False):
    forecast: RawForecast | None


@with_config(_CONFIG)
class RawState(RawSite, total=False):
    result: RawSite | None  # every REST body was wrapped in {"result": ...} before 0.207


@with_config(_CONFIG)
class RawStateLean(RawSiteBase, total=False):
    """RawState without the forecast, for bodies whose forecast bytes are already known."""

    result: RawSiteBase | None


@with_config(_CONFIG)
class RawLine(TypedDict, total=False):
    t: Any  # read by utc_time on both paths, so both accept the same times
    state: RawState | None
    error: Any
    kind: Any


@with_config(_CONFIG)
class RawLineLean(TypedDict, total=False):
    t: Any
    state: RawStateLean | None
    error: Any
    kind: Any


STATE = TypeAdapter(RawState)
STATE_LEAN = TypeAdapter(RawStateLean)
LINE = TypeAdapter(RawLine)
LINE_LEAN = TypeAdapter(RawLineLean)

# Keys whose presence makes a body an evcc state, besides loadpoints.
SITE_KEYS = frozenset(RawSiteBase.__annotations__) - {"loadpoints"}

_MAX_TS = 253_402_300_799  # 9999-12-31T23:59:59Z
_KINDS: frozenset[str] = frozenset(get_args(PollErrorKind))


def number(value: Any) -> float | None:
    """A finite JSON number as float; bools, strings and NaN are not numbers here."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            result = float(value)
        except OverflowError:  # an integer beyond float range
            return None
        return result if math.isfinite(result) else None
    return None


def _parse_time(value: str | int | float) -> datetime | None:
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
        elif 0 <= value <= _MAX_TS:
            return datetime.fromtimestamp(value, UTC)
        else:
            return None
        if parsed.year <= 1:  # evcc's zero time means "unset"
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None


# Forecasts repeat the same slot times in every poll and every update.
_parse_time_cached = lru_cache(maxsize=8192)(_parse_time)


def utc_time(value: Any, *, cached: bool = True) -> datetime | None:
    """RFC3339 text, unix seconds (not negative) or a datetime as aware UTC; else None.

    Naive times are taken as UTC; year 1 (evcc's zero time) means unset. `cached=False`
    for times that never repeat (recording lines), so they do not evict forecast times.
    """
    kind = type(value)
    if kind is str or kind is int or kind is float:
        if value != value:  # NaN
            return None
        return _parse_time_cached(value) if cached else _parse_time(value)
    if isinstance(value, datetime):
        if value.year <= 1:
            return None
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 has no UTC time
            return None
    return None


def unwrap(state: Mapping[str, Any]) -> Mapping[str, Any]:
    """The body inside the `{"result": ...}` wrapper evcc used before 0.207."""
    inner = state.get("result")
    return inner if "loadpoints" not in state and isinstance(inner, dict) else state


def usable(site: Mapping[str, Any]) -> bool:
    """A state has loadpoints or at least one site key; anything else is not a state."""
    return isinstance(site.get("loadpoints"), list) or not SITE_KEYS.isdisjoint(site)


def why_unusable(data: Mapping[Any, Any]) -> str:
    inner = data.get("result")
    keys = sorted(str(key) for key in (inner if isinstance(inner, Mapping) else data))
    if not keys:
        return "an empty object"
    if keys == ["forecast"]:
        return "only a forecast (a websocket forecast shard alone?)"
    if "rates" in keys:
        return 'a tariff body ({"rates": [...]}), not a state'
    shown = ", ".join(key[:40] for key in keys[:6]) + (", ..." if len(keys) > 6 else "")
    return f"no loadpoints and no site keys (keys: {shown})"


def describe_error(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ())) or "body"
    return f"{where}: {error.get('msg', 'invalid')}"


def recorded_error(at: datetime, error: Any, kind: Any) -> PollError:
    """A failed poll from a recording: kind from "kind", else a "<kind>: " prefix, else http."""
    message = error if isinstance(error, str) else json.dumps(error, default=str)
    if kind not in _KINDS:
        prefix, sep, rest = message.partition(":")
        kind, message = (prefix, rest) if sep and prefix in _KINDS else ("http", message)
    return PollError(at, kind, " ".join(message.split())[:500] or "failed")
