"""Local calendar days in epoch seconds: the unit the day-sized caches of the model use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SLOT_S = 900


@dataclass(frozen=True, slots=True)
class Day:
    """One local calendar day [start, end) in epoch seconds (23 or 25 h on DST days)."""

    date: date
    start: float
    end: float

    @property
    def minutes(self) -> int:
        return int((self.end - self.start) // 60)


def local_midnight(d: date, tz: ZoneInfo) -> float:
    return datetime.combine(d, time(0), tzinfo=tz).timestamp()


def day_of(t: float, tz: ZoneInfo) -> Day:
    d = datetime.fromtimestamp(t, tz).date()
    return day_for(d, tz)


def day_for(d: date, tz: ZoneInfo) -> Day:
    return Day(d, local_midnight(d, tz), local_midnight(d + timedelta(days=1), tz))


def slot_clock(day: Day, tz: ZoneInfo) -> list[tuple[int, int]]:
    """(local hour, local quarter-hour index 0..95) of each 15-minute slot of the day."""
    result = []
    t = day.start
    while t < day.end:
        local = datetime.fromtimestamp(t, tz)
        result.append((local.hour, local.hour * 4 + local.minute // 15))
        t += SLOT_S
    return result


def slot_start(t: float) -> float:
    # Every zone in use has an offset that is a multiple of 15 minutes, so UTC alignment works.
    return t - t % SLOT_S


def rfc3339(t: float, tz: ZoneInfo | None = None) -> str:
    """RFC3339 like Go's time.Time encoding: 'Z' for UTC, else the zone's offset."""
    if tz is None:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return datetime.fromtimestamp(t, tz).isoformat(timespec="seconds")
