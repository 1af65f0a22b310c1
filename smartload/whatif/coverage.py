"""Which hours a what-if run needs prices for, and what it does when the table lacks some.

A run reads prices for its period and for the day after it: smartload sees the next day's
prices from 13:00 on the last day, and the report values what is left stored at the end
with the day after's lowest price. Every one of those hours must be in the price table.
A missing hour is an error naming it, unless the run allows stand-ins: then the
simulator's stand-in (the same weekday 52 weeks earlier, else the shipped week of the
season) prices each day that lacks an hour, a warning lists them, and the report too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import Any

from smartload.sim.prices import GridTariff

# The days named one by one in an error or warning; the rest are counted.
SHOWN_DAYS = 8


@dataclass(frozen=True)
class Coverage:
    """The hours of the run's need [start, end) the price table lacks."""

    start: datetime
    end: datetime
    missing: list[datetime]
    first: datetime
    last: datetime

    @property
    def days(self) -> list[date]:
        return sorted({hour.date() for hour in self.missing})

    def describe(self) -> str:
        """The missing hours by local day: "2024-12-19 23:00-24:00, 2024-12-20 (all day)"."""
        parts = []
        for day, hours in groupby(self.missing, key=lambda h: h.date()):
            parts.append(f"{day.isoformat()} {_hour_ranges(day, list(hours))}")
        shown = ", ".join(parts[:SHOWN_DAYS])
        more = len(parts) - SHOWN_DAYS
        return shown + (f" and {more} more day(s)" if more > 0 else "")


class MissingPrices(ValueError):
    """The price table lacks hours the run needs; `lines` say which and what to do."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0])
        self.lines = lines


def coverage(tariff: GridTariff, start: datetime, end: datetime) -> Coverage:
    """The hours from start to the end of the day after `end` (local) the table lacks."""
    need_end = datetime.combine(end.date() + timedelta(days=1), time(0), tzinfo=end.tzinfo)
    first, last = tariff.prices.covered_range()
    return Coverage(start, need_end, tariff.prices.missing_hours(start, need_end), first, last)


def check_prices(tariff: GridTariff, start: datetime, end: datetime, source: str,
                 allow_stand_ins: bool) -> dict[str, Any] | None:
    """Raise MissingPrices for a gap, or (stand-ins allowed) return what the report says
    of them: the missing hours and, per day lacking one, the date whose prices it takes."""
    found = coverage(tariff, start, end)
    if not found.missing:
        return None
    span = f"{found.start:%Y-%m-%d %H:%M} to {found.end:%Y-%m-%d %H:%M}"
    what = (f"{source} has no price for {len(found.missing)} hour(s) of {span} (the period and the day after: "
            f"smartload sees the next day's prices from 13:00, and the report values stored energy at them): "
            f"{found.describe()}")
    covers = (f"its first price is for {found.first:%Y-%m-%d %H:%M}, its last for {found.last:%Y-%m-%d %H:%M} "
              "(local time)")
    if not allow_stand_ins:
        raise MissingPrices([
            f"simulate: {what}",
            f"simulate: {covers}; choose a period inside it (and end it a day before), give --prices with "
            "the missing hours, or --price-stand-ins to let the same weekday 52 weeks earlier stand in",
        ])
    stand_ins = {}
    for day in found.days:
        table, source_day = tariff.source_of(day)
        stand_ins[day.isoformat()] = source_day.isoformat() + ("" if table is tariff.prices else " (shipped week)")
    return {"missing_hours": len(found.missing), "missing": found.describe(), "days": stand_ins,
            "warning": f"{what}; {covers}; stand-ins: "
                       + ", ".join(f"{day} takes {source}" for day, source in stand_ins.items())}


def _hour_ranges(day: date, hours: list[datetime]) -> str:
    """Consecutive missing hours as ranges, "(all day)" when none of the day has a price.
    Timestamps, not wall clocks: a DST day has 23 or 25 hours."""
    tz = hours[0].tzinfo
    day_s = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).timestamp()
             - datetime.combine(day, time(0), tzinfo=tz).timestamp())
    if len(hours) * 3600 >= day_s:
        return "(all day)"
    ranges: list[str] = []
    run_start = previous = hours[0]
    for hour in [*hours[1:], None]:
        if hour is not None and hour.timestamp() - previous.timestamp() <= 3600:
            previous = hour
            continue
        end = datetime.fromtimestamp(previous.timestamp() + 3600, tz)
        end_text = "24:00" if end.date() != day else f"{end:%H:%M}"
        ranges.append(f"{run_start:%H:%M}-{end_text}")
        if hour is not None:
            run_start = previous = hour
    return ", ".join(ranges)
