"""Remembering converted forecasts from poll to poll.

A forecast is most of a state body, rarely changes between polls, and costs more to
convert than the rest of the state. ForecastMemo therefore remembers what it converted:
each series by its raw value, and, once the same forecast has been seen twice, its exact
bytes, so that a later body holding those bytes at a `"forecast"` key can skip
validating it at all (a JSON value is self-delimiting: identical bytes, identical value):
the bytes are cut out before validation.

Raw values are compared with their types (`same_json`): Python's `False == 0.0` must not
reuse rates made from the other. A conversion is reused at a later poll only while every
slot it kept lies in that poll's time window and it dropped none for its time, so a
memo's result always equals a fresh parser's.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from smartload.domain import Tariffs, ValueProblem
from smartload.evcc.forecast import Checks, Dropped, rates_from_raw, solar_from_raw
from smartload.evcc.ranges import RATE_BOUNDS
from smartload.evcc.validate import ALL_POLLS, polls_covering, window

NO_FORECAST = Tariffs()

_FORECAST_KEY = b'"forecast"'
_WHITESPACE = b" \t\r\n"
_DECODER = json.JSONDecoder()
_SERIES = ("grid", "feedin", "solar")
_NO_PROBLEMS: tuple[ValueProblem, ...] = ()


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
        if isinstance(value, dict) and all(same_json(value.get(key), forecast.get(key)) for key in _SERIES):
            found.append(text[:end].encode())
    return found[0] if len(found) == 1 else None


def same_json(a: Any, b: Any) -> bool:
    """`a == b` for decoded JSON, but with types: False is not 0.0, 1 is not 1.0.

    Iterative, and only walks values `==` already found equal (the rare case)."""
    if a != b:
        return False
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        kind = type(x)
        if kind is not type(y):
            return False
        if kind is dict:
            stack += [(value, y[key]) for key, value in x.items()]
        elif kind is list:
            stack += list(zip(x, y, strict=True))
    return True


class Converted(NamedTuple):
    """Rates made from one raw value, with what was left out, and the poll times at which
    the same value gives the same result: those whose window holds every rate kept, if
    no entry was left out for its time (None: only the poll it was made for)."""

    raw: Any
    rates: Any  # tuple[Rate, ...] for a series, Tariffs for a whole forecast
    problems: tuple[ValueProblem, ...]
    polls: tuple[datetime, datetime] | None

    def holds_at(self, at: datetime) -> bool:
        return self.polls is not None and self.polls[0] <= at <= self.polls[1]


def _common(*parts: Converted) -> tuple[datetime, datetime] | None:
    spans = [part.polls for part in parts if part.polls is not None]
    if len(spans) < len(parts):
        return None
    return max(low for low, _ in spans), min(high for _, high in spans)


_NOTHING = Converted(None, NO_FORECAST, _NO_PROBLEMS, ALL_POLLS)


class _Last(NamedTuple):
    converted: Converted
    region: bytes | None  # the exact bytes of converted.raw, once seen twice and located


class ForecastMemo:
    """Turns state forecasts into Tariffs, remembering the last ones it converted.

    Only saves work: the result equals a fresh conversion. Each update is one atomic
    assignment, so a memo may be shared.
    """

    def __init__(self) -> None:
        self._last = _Last(_NOTHING, None)
        self._series: dict[str, Converted] = {}

    def known(self, body: bytes, at: datetime | None) -> tuple[bytes, list[int], Converted | None]:
        """What of `body` to validate, its forecast offsets, and its conversion if known.

        When the body holds the remembered forecast bytes and their conversion holds at
        `at`, the bytes are cut out (replaced by null: they are most of the body) and the
        conversion comes back. A body without a `"forecast"` key has no forecast. None
        means: validate the forecast. With `at` None (not known yet), the caller asks
        `holds_at` itself.
        """
        last, region = self._last
        starts, offset = forecast_starts(body, region)
        if offset >= 0 and region is not None:
            if at is None or last.holds_at(at):
                return body[:offset] + b"null" + body[offset + len(region) :], starts, last
            starts, _ = forecast_starts(body)  # the scan stopped at the remembered bytes
        return body, starts, (None if starts else _NOTHING)

    def tariffs_for(self, forecast: Any, at: datetime, body: bytes = b"", starts: list[int] | None = None) -> Converted:
        """Tariffs of a validated forecast at a poll at `at`, with the problems of its
        rates; `body` and `starts` let it locate the forecast's bytes."""
        if not isinstance(forecast, dict):
            return _NOTHING
        last, region = self._last
        if last.holds_at(at) and same_json(forecast, last.raw):
            if region is None and starts:
                region = locate_forecast(body, starts, forecast)
                if region is not None:
                    self._last = _Last(last, region)
            return last
        grid = self._series_for("grid", forecast.get("grid"), at)
        feedin = self._series_for("feedin", forecast.get("feedin"), at)
        solar = self._series_for("solar", forecast.get("solar"), at)
        tariffs = last.rates  # the same object while nothing changed: consumers compare by identity
        if not (grid.rates is tariffs.grid and feedin.rates is tariffs.feedin and solar.rates is tariffs.solar):
            tariffs = Tariffs(grid=grid.rates, feedin=feedin.rates, solar=solar.rates)
        parts = (grid, feedin, solar)
        converted = Converted(forecast, tariffs, tuple(p for part in parts for p in part.problems), _common(*parts))
        self._last = _Last(converted, None)
        return converted

    def _series_for(self, kind: str, raw: Any, at: datetime) -> Converted:
        # Each series is remembered apart: prices and the solar forecast change apart.
        if raw is None:
            return Converted(None, (), _NO_PROBLEMS, ALL_POLLS)
        last = self._series.get(kind)
        if last is not None and last.holds_at(at) and same_json(raw, last.raw):
            return last
        checks, dropped = Checks(f"forecast.{kind}", RATE_BOUNDS[kind], *window(at)), Dropped()
        rates = solar_from_raw(raw, checks, dropped) if kind == "solar" else rates_from_raw(raw, checks, dropped)
        if dropped.timed:
            polls = None
        else:
            polls = polls_covering(rates[0].start, max(rate.end for rate in rates)) if rates else ALL_POLLS
        converted = Converted(raw, rates, tuple(dropped.problems), polls)
        self._series = {**self._series, kind: converted}
        return converted


