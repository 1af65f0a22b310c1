"""Dropping the values evcc cannot truly have sent, while the parser builds a state.

evcc's API promises types, not ranges. A misconfigured meter, a broken template or a
damaged body can carry a SoC of 140 %, a maximum current of -16 A or a forecast point in
year 9999, and the planner would fail on every snapshot (or, for a car "at 140 %", end
its request as "target reached"). So the builders check each number: normalise.py
through `bounded`, forecast.py its rates against the same ranges (ranges.py lists them).
A value outside its range becomes unknown (None) and a ValueProblem records where it was
in evcc's body and what it was; the rest of the state is used. Two choices beyond the ranges:

- a minCurrent above maxCurrent is dropped and maxCurrent kept: maxCurrent is the limit
  that protects the wallbox and its cable, so keeping it errs on the safe side;
- a capacity of 0 is evcc's "not configured" and becomes None without a problem.

Times are checked against the poll's time, so that no later step adding a duration can
overflow: `window` gives the times a poll may name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from smartload.domain import ValueProblem
from smartload.evcc.ranges import TIME_WINDOW, Bounds, shown

__all__ = ["ALL_POLLS", "bounded", "key_path", "polls_covering", "window"]

ALL_POLLS = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))

_KEY_CHARS = 40
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def key_path(where: str, key: str) -> str:
    """`where.key` in jq syntax: `vehicles.vehicle_1`, but `vehicles["db:69"]`."""
    if _NAME.fullmatch(key):
        return f"{where}.{key}" if where else key
    return f'{where}["{key}"]' if len(key) <= _KEY_CHARS else f'{where}["{key[:_KEY_CHARS - 1]}…"]'


def bounded(value: Any, bounds: Bounds, where: str, key: str, problems: list[ValueProblem]) -> Any:
    """`value` if it is None or within `bounds`; else None, with a problem at `where.key`."""
    if value is None or bounds.low <= value <= bounds.high:
        return value
    problems.append(ValueProblem(key_path(where, key), shown(value)))
    return None


def window(at: datetime) -> tuple[datetime, datetime]:
    """The times a value seen at `at` may name, clamped to what datetime can hold."""
    low = at - TIME_WINDOW if at.year > 4 else ALL_POLLS[0]
    high = at + TIME_WINDOW if at.year < 9996 else ALL_POLLS[1]
    return low, high


def polls_covering(first: datetime, last: datetime) -> tuple[datetime, datetime]:
    """The poll times whose window holds both `first` and `last`: a remembered result
    holding such times is checked against a new poll with two comparisons."""
    earliest = last - TIME_WINDOW if last.year > 4 else ALL_POLLS[0]
    latest = first + TIME_WINDOW if first.year < 9996 else ALL_POLLS[1]
    return earliest, latest
