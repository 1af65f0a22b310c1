"""evcc's rates: forecasts in a state body and `/api/tariff` bodies, as domain Rates.

In a state body each rate is checked here against the ranges of ranges.py: a price or
a solar power out of range, or a slot outside the poll's time window, is left out and reported as a
ValueProblem. A point in year 9999 is thus dropped before any duration is added to it.
forecast_memo.py remembers conversions from poll to poll.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, NamedTuple

from smartload.domain import Rate, ValueProblem
from smartload.evcc import raw as r
from smartload.evcc.ranges import Bounds, shown
from smartload.evcc.repair import json_kind, loads

_ONE_HOUR = timedelta(hours=1)
_START = attrgetter("start")


class Checks(NamedTuple):
    """What the rates of one forecast series must satisfy, and where to report what not.

    where: the series' path in the body (`forecast.grid`); values: the range of a rate's
    value; low, high: the times its slots must lie within."""

    where: str
    values: Bounds
    low: datetime
    high: datetime


@dataclass
class Dropped:
    """What a checked conversion left out, in body order; timed: whether any of it was
    left out for its time (so the result holds only for this poll's window)."""

    problems: list[ValueProblem] = field(default_factory=list)
    timed: bool = False

    def add(self, problem: ValueProblem, *, timed: bool) -> None:
        self.problems.append(problem)
        self.timed = self.timed or timed


def rates_from_raw(raw: Any, checks: Checks | None = None, dropped: Dropped | None = None) -> tuple[Rate, ...]:
    """Rates from `{start,end,value|price}` objects or `[start,end,value]` arrays.

    `price` was the key before evcc 0.203; arrays of unix seconds came with 0.314.
    Unusable entries are dropped, not fatal; the result is sorted by start. With
    `checks`, an entry whose value or times are out of range is dropped too, and noted
    in `dropped`.
    """
    if not isinstance(raw, list):
        return ()
    rates: list[Rate] = []
    for index, entry in enumerate(raw):
        if isinstance(entry, dict):
            start, end, value = entry.get("start"), entry.get("end"), entry.get("value")
            keys: tuple[str | int, ...] = ("start", "end", "value")
            if value is None:
                value, keys = entry.get("price"), ("start", "end", "price")
        elif isinstance(entry, list) and len(entry) >= 3:
            start, end, value, keys = entry[0], entry[1], entry[2], (0, 1, 2)
        else:
            continue
        begin, finish = r.utc_time(start), r.utc_time(end)
        number = value if type(value) is float and math.isfinite(value) else r.number(value)
        if begin is None or finish is None or number is None or not finish > begin:
            continue
        if checks is not None and not _rate_ok(checks, index, keys, (start, end, value), begin, finish, number,
                                                  dropped):
            continue
        rates.append(Rate(begin, finish, number))
    rates.sort(key=_START)
    return tuple(rates)


def _rate_ok(
    checks: Checks, index: int, keys: tuple[str | int, ...], raw: tuple[Any, Any, Any],
    begin: datetime, finish: datetime, value: float, dropped: Dropped | None,
) -> bool:
    if not checks.low <= begin <= checks.high:
        bad, timed = _problem(checks.where, index, keys[0], raw[0]), True
    elif not finish <= checks.high:
        bad, timed = _problem(checks.where, index, keys[1], raw[1]), True
    elif not checks.values.low <= value <= checks.values.high:
        bad, timed = _problem(checks.where, index, keys[2], raw[2]), False
    else:
        return True
    if dropped is not None:
        dropped.add(bad, timed=timed)
    return False


def _problem(where: str, index: int, key: str | int, value: Any) -> ValueProblem:
    step = f"[{key}]" if isinstance(key, int) else f".{key}"
    return ValueProblem(f"{where}[{index}]{step}", shown(value))


def solar_from_raw(raw: Any, checks: Checks | None = None, dropped: Dropped | None = None) -> tuple[Rate, ...]:
    """The solar forecast (W) as rates.

    evcc sends an object whose `timeseries` holds points (`{ts,val}`, or `[tsUnix, W]`
    since 0.314). Each point lasts until the next one; the last as long as the one
    before it (an hour if it is alone). A plain list is read as rates. `checks` and
    `dropped` as for rates_from_raw: a point out of range is left out before the
    durations are taken, so a point in year 9999 cannot stretch its neighbour there.
    """
    if isinstance(raw, list):
        return rates_from_raw(raw, checks, dropped)
    series = raw.get("timeseries") if isinstance(raw, dict) else None
    if not isinstance(series, list):
        return ()
    where = f"{checks.where}.timeseries" if checks is not None else ""
    points: dict[datetime, tuple[float, int, str | int, Any]] = {}  # value, and where it came from
    keys: tuple[str | int, str | int]
    for index, entry in enumerate(series):
        if isinstance(entry, dict):
            ts, value, keys = entry.get("ts"), entry.get("val"), ("ts", "val")
        elif isinstance(entry, list) and len(entry) >= 2:
            ts, value, keys = entry[0], entry[1], (0, 1)
        else:
            continue
        at = r.utc_time(ts)
        number = value if type(value) is float and math.isfinite(value) else r.number(value)
        if at is None or number is None:
            continue
        if checks is not None:
            timed = not checks.low <= at <= checks.high
            if timed or not checks.values.low <= number <= checks.values.high:
                if dropped is not None:
                    key, bad = (keys[0], ts) if timed else (keys[1], value)
                    dropped.add(_problem(where, index, key, bad), timed=timed)
                continue
        points[at] = (number, index, keys[0], ts)
    times = sorted(points)
    rates: list[Rate] = []
    step = _ONE_HOUR
    for position, at in enumerate(times):
        if position + 1 < len(times):
            step = times[position + 1] - at
        number, index, key, ts = points[at]
        if checks is not None and step > checks.high - at:  # its slot would end beyond the window
            if dropped is not None:
                dropped.add(_problem(where, index, key, ts), timed=True)
            continue
        try:
            rates.append(Rate(at, at + step, number))
        except OverflowError:  # unchecked (an /api/tariff body): a slot ending after 9999
            continue
    return tuple(rates)


def parse_tariff(raw: bytes | str | Mapping[str, Any]) -> tuple[Rate, ...]:
    """Rates of a `GET /api/tariff/{grid,feedin,solar,...}` body, sorted by start.

    Accepts the `result` wrapper (before 0.207), `price` or `value`, objects or compact
    arrays; unusable entries are dropped. Raises ValueError if it is not a tariff body.
    """
    if isinstance(raw, Mapping):
        data: Any = raw
    else:
        data, problem = loads(raw.encode() if isinstance(raw, str) else bytes(raw))
        if problem is not None:
            raise ValueError(f"not a tariff body: {problem}")
    if isinstance(data, Mapping) and "rates" not in data and isinstance(data.get("result"), Mapping | list):
        data = data["result"]
    rates = data.get("rates") if isinstance(data, Mapping) else data
    if not isinstance(rates, list):
        raise ValueError(f'not a tariff body: expected {{"rates": [...]}}, got a JSON {json_kind(data)}')
    return rates_from_raw(rates)
