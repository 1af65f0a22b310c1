"""evcc's rates: forecasts in a state body and `/api/tariff` bodies, as domain Rates.

A forecast is most of a state body, rarely changes between polls, and costs more to
convert than the rest of the state. ForecastMemo therefore remembers what it converted:
each series by its raw value, and, once the same forecast has been seen twice, its exact
bytes, so that a later body holding those bytes at a `"forecast"` key can skip
validating it at all (a JSON value is self-delimiting: identical bytes, identical value):
the bytes are cut out before validation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from smartload.domain import Rate, Tariffs
from smartload.evcc import raw as r

NO_FORECAST = Tariffs()

_ONE_HOUR = timedelta(hours=1)
_START = attrgetter("start")
_FORECAST_KEY = b'"forecast"'
_WHITESPACE = b" \t\r\n"
_DECODER = json.JSONDecoder()
_SERIES = ("grid", "feedin", "solar")


def rates_from_raw(raw: Any) -> tuple[Rate, ...]:
    """Rates from `{start,end,value|price}` objects or `[start,end,value]` arrays.

    `price` was the key before evcc 0.203; arrays of unix seconds came with 0.314.
    Unusable entries are dropped, not fatal; the result is sorted by start.
    """
    if not isinstance(raw, list):
        return ()
    rates: list[Rate] = []
    for entry in raw:
        if isinstance(entry, dict):
            start, end, value = entry.get("start"), entry.get("end"), entry.get("value")
            if value is None:
                value = entry.get("price")
        elif isinstance(entry, list) and len(entry) >= 3:
            start, end, value = entry[0], entry[1], entry[2]
        else:
            continue
        begin, finish = r.utc_time(start), r.utc_time(end)
        if type(value) is not float or not math.isfinite(value):
            value = r.number(value)
        if begin is not None and finish is not None and value is not None and finish > begin:
            rates.append(Rate(begin, finish, value))
    rates.sort(key=_START)
    return tuple(rates)


def solar_from_raw(raw: Any) -> tuple[Rate, ...]:
    """The solar forecast (W) as rates.

    evcc sends an object whose `timeseries` holds points (`{ts,val}`, or `[tsUnix, W]`
    since 0.314). Each point lasts until the next one; the last as long as the one
    before it (an hour if it is alone). A plain list is read as rates.
    """
    if isinstance(raw, list):
        return rates_from_raw(raw)
    series = raw.get("timeseries") if isinstance(raw, dict) else None
    if not isinstance(series, list):
        return ()
    points: dict[datetime, float] = {}
    for entry in series:
        if isinstance(entry, dict):
            ts, value = entry.get("ts"), entry.get("val")
        elif isinstance(entry, list) and len(entry) >= 2:
            ts, value = entry[0], entry[1]
        else:
            continue
        at = r.utc_time(ts)
        if type(value) is not float or not math.isfinite(value):
            value = r.number(value)
        if at is not None and value is not None:
            points[at] = value
    times = sorted(points)
    rates: list[Rate] = []
    step = _ONE_HOUR
    for index, at in enumerate(times):
        if index + 1 < len(times):
            step = times[index + 1] - at
        rates.append(Rate(at, at + step, points[at]))
    return tuple(rates)


def forecast_starts(body: bytes, known: bytes | None = None) -> tuple[list[int], int]:
    """Offsets of the values of `"forecast"` keys in a JSON body, and the offset of the
    value that starts with the `known` bytes (-1 if none).

    The scan stops at the value that starts with the `known` bytes. The searched
    byte sequence cannot occur inside a JSON string (its quotes would be escaped), so
    every hit is a key, at some depth.
    """
    starts: list[int] = []
    end = len(body)
    position = body.find(_FORECAST_KEY)
    while position >= 0:
        i = position + len(_FORECAST_KEY)
        while i < end and body[i] in _WHITESPACE:
            i += 1
        if i < end and body[i] == 0x3A:  # ':'
            i += 1
            while i < end and body[i] in _WHITESPACE:
                i += 1
            if known is not None and body.startswith(known, i):
                return starts, i
            starts.append(i)
        position = body.find(_FORECAST_KEY, i)
    return starts, -1


def locate_forecast(body: bytes, starts: list[int], forecast: dict[str, Any]) -> bytes | None:
    """The exact bytes of the body's top-level forecast value, if they can be told apart.

    Nested `"forecast"` keys exist (battery.forecast in 0.31x); the top-level one is the
    single candidate that decodes to the same grid, feedin and solar. A forecast with
    none of those is not located: it could be mistaken for a nested one.
    """
    if all(forecast.get(key) is None for key in _SERIES):
        return None
    found: list[bytes] = []
    for start in starts:
        try:
            text = body[start:].decode()
            value, end = _DECODER.raw_decode(text)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict) and all(value.get(key) == forecast.get(key) for key in _SERIES):
            found.append(text[:end].encode())
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True, slots=True)
class _Last:
    raw: Any  # the validated forecast the tariffs were made from
    region: bytes | None  # its exact bytes, once seen twice and located
    tariffs: Tariffs


class ForecastMemo:
    """Turns state forecasts into Tariffs, remembering the last ones it converted.

    Only saves work: the result equals a fresh conversion. Each update is one atomic
    assignment, so a memo may be shared.
    """

    def __init__(self) -> None:
        self._last = _Last(raw=None, region=None, tariffs=NO_FORECAST)
        self._series: dict[str, tuple[Any, tuple[Rate, ...]]] = {}

    def known(self, body: bytes) -> tuple[bytes, list[int], Tariffs | None]:
        """What of `body` to validate, its forecast offsets, and its Tariffs if known.

        When the body holds the remembered forecast bytes, those are cut out (replaced by
        null: they are most of the body) and the remembered Tariffs come back. A body
        without a `"forecast"` key has empty Tariffs. None means: validate the forecast.
        """
        last = self._last
        starts, at = forecast_starts(body, last.region)
        if at >= 0 and last.region is not None:
            return body[:at] + b"null" + body[at + len(last.region) :], starts, last.tariffs
        return body, starts, (None if starts else NO_FORECAST)

    def tariffs_for(self, forecast: Any, body: bytes = b"", starts: list[int] | None = None) -> Tariffs:
        """Tariffs of a validated forecast; `body` and `starts` let it locate its bytes."""
        if not isinstance(forecast, dict):
            return NO_FORECAST
        last = self._last
        if forecast == last.raw:
            if last.region is None and starts:
                region = locate_forecast(body, starts, forecast)
                if region is not None:
                    self._last = _Last(last.raw, region, last.tariffs)
            return last.tariffs
        grid = self._series_for("grid", forecast.get("grid"))
        feedin = self._series_for("feedin", forecast.get("feedin"))
        solar = self._series_for("solar", forecast.get("solar"))
        tariffs = last.tariffs
        if not (grid is tariffs.grid and feedin is tariffs.feedin and solar is tariffs.solar):
            tariffs = Tariffs(grid=grid, feedin=feedin, solar=solar)
        self._last = _Last(forecast, None, tariffs)
        return tariffs

    def _series_for(self, kind: str, raw: Any) -> tuple[Rate, ...]:
        # Each series is remembered apart: prices and the solar forecast change apart.
        if raw is None:
            return ()
        last = self._series.get(kind)
        if last is not None and last[0] == raw:
            return last[1]
        rates = solar_from_raw(raw) if kind == "solar" else rates_from_raw(raw)
        self._series = {**self._series, kind: (raw, rates)}
        return rates


def parse_tariff(raw: bytes | str | Mapping[str, Any]) -> tuple[Rate, ...]:
    """Rates of a `GET /api/tariff/{grid,feedin,solar,...}` body, sorted by start.

    Accepts the `result` wrapper (before 0.207), `price` or `value`, objects or compact
    arrays; unusable entries are dropped. Raises ValueError if it is not a tariff body.
    """
    if isinstance(raw, Mapping):
        data: Any = raw
    else:
        data, problem = r.loads(raw.encode() if isinstance(raw, str) else bytes(raw))
        if problem is not None:
            raise ValueError(f"not a tariff body: {problem}")
    if isinstance(data, Mapping) and "rates" not in data and isinstance(data.get("result"), Mapping | list):
        data = data["result"]
    rates = data.get("rates") if isinstance(data, Mapping) else data
    if not isinstance(rates, list):
        raise ValueError(f'not a tariff body: expected {{"rates": [...]}}, got a JSON {r.json_kind(data)}')
    return rates_from_raw(rates)
