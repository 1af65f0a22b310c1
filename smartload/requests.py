"""Charge requests: what each car should reach by when, and the bounds a request must keep
(a departure in year 9999 or a target of 1000 % is a typo, not a plan). Stored by
store/requests.py; settled against the car's SoC by the sequencer (sinks/sequencer.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from smartload.settings.types import (
    REQUEST_MAX_AHEAD,
    REQUEST_MAX_ENERGY_KWH,
    REQUEST_MAX_PRIORITY,
    REQUEST_MAX_TARGET_SOC_PCT,
    REQUEST_MIN_TARGET_SOC_PCT,
    parse_clock,
)
from smartload.settings.vehicles import WEEKDAYS, Weekday


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """target_soc_pct, or energy_kwh for a car that reports no SoC. id None: a default
    request derived from settings that has not been stored."""

    vehicle: str
    departure: datetime
    target_soc_pct: float | None = None
    energy_kwh: float | None = None
    priority: int = 0
    source: str = "default"
    created_at: datetime | None = None
    id: int | None = None


def request_problem(request: ChargeRequest, now: datetime) -> str | None:
    """"<field>: why" if the request breaks the bounds every source shares
    (settings/types.py: REQUEST_*), else None. A departure already past is no problem here: an
    open request lives on until its car leaves."""
    target, energy = request.target_soc_pct, request.energy_kwh
    if (target is None) == (energy is None):
        return "target_soc_pct: give either target_soc_pct or energy_kwh"
    # Written so that NaN fails too: every comparison with NaN is False.
    if target is not None and not REQUEST_MIN_TARGET_SOC_PCT <= target <= REQUEST_MAX_TARGET_SOC_PCT:
        return f"target_soc_pct: must be between {REQUEST_MIN_TARGET_SOC_PCT:g} and {REQUEST_MAX_TARGET_SOC_PCT:g}"
    if energy is not None and not 0 < energy <= REQUEST_MAX_ENERGY_KWH:
        return f"energy_kwh: must be above 0 and at most {REQUEST_MAX_ENERGY_KWH:g}"
    if isinstance(request.priority, bool) or not isinstance(request.priority, int) or \
            not 0 <= request.priority <= REQUEST_MAX_PRIORITY:
        return f"priority: must be a whole number from 0 to {REQUEST_MAX_PRIORITY}"
    if request.departure.tzinfo is None or request.departure.utcoffset() is None:
        return "departure: needs a time zone"
    # Aware datetimes compare and subtract without overflow even at year 1 or 9999.
    if request.departure - now > REQUEST_MAX_AHEAD:
        return f"departure: must be at most {REQUEST_MAX_AHEAD.days} days ahead"
    return None


def check_request(request: ChargeRequest, now: datetime) -> None:
    """Raise ValueError("<field>: why") unless a new request keeps to the shared bounds
    and departs in the future; a request that passes can be stored and planned."""
    problem = request_problem(request, now)
    if problem is None and request.departure <= now:
        problem = "departure: must be in the future"
    if problem is not None:
        raise ValueError(problem)


def next_departure(now: datetime, schedule: Mapping[Weekday, str | None], tz: tzinfo) -> datetime | None:
    """The first scheduled departure after now, looking one week ahead, in UTC."""
    local = now.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        clock = schedule.get(WEEKDAYS[day.weekday()])
        if clock is None:
            continue
        hh, mm = parse_clock(clock)
        candidate = datetime(day.year, day.month, day.day, hh, mm, tzinfo=tz)
        if candidate > local:
            return candidate.astimezone(UTC)
    return None
