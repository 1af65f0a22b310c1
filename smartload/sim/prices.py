"""Grid tariff from real day-ahead prices, published the way the auction publishes them.

The simulated calendar maps onto real prices: a date the price table covers whole (every
hour) is used as is; otherwise the same weekday one or more 52-week years earlier;
otherwise the same weekday of the shipped representative week of the same season. So the
default run works on any real date. Prices are hourly or quarter-hourly; with hourly
prices evcc's 15-minute slots repeat the hour's price. The what-if runs check coverage
hour by hour first (`missing_hours`) and use no stand-in unless told to.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from smartload.sim.days import SLOT_S, day_for, day_of, slot_clock, slot_start
from smartload.sim.scenario import TariffSpec
from smartload.timefmt import parse_iso

SHIPPED_WEEKS = "prices_dayahead_de_lu_2024_weeks.csv"
# The what-if default: DE-LU 2024, every hour from 2024-01-01 to 2024-12-19 22:00 local.
SHIPPED_YEAR = "prices_dayahead_de_lu_2024.csv.gz"

# The next day's prices appear at 13:00 local time (EPEX day-ahead results ~12:45 CET).
PUBLISH_HOUR = 13
_SEASON_MONTH = {12: 1, 1: 1, 2: 1, 3: 4, 4: 4, 5: 4, 6: 7, 7: 7, 8: 7, 9: 10, 10: 10, 11: 10}


def _read_rows(text: str) -> Iterable[tuple[datetime, float]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    if header[:2] != ["timestamp_utc", "price_eur_per_mwh"]:
        raise ValueError("price CSV needs the header timestamp_utc,price_eur_per_mwh")
    for row in reader:
        if row:
            yield parse_iso(row[0]), float(row[1])


class DayAheadPrices:
    """Day-ahead prices (hourly or quarter-hourly) keyed by the local date and the local
    quarter-hour of the day (hour * 4 + minute // 15) they start at."""

    def __init__(self, rows: Iterable[tuple[datetime, float]], tz: ZoneInfo) -> None:
        self._tz = tz
        self._by_day: dict[date, dict[int, float]] = {}
        # Epoch seconds of every price's start: coverage is decided on these, hour by hour
        # (a DST day's local clock repeats or skips an hour; UTC does not).
        self._starts: set[int] = set()
        for ts, price in rows:
            local = ts.astimezone(tz)
            self._by_day.setdefault(local.date(), {})[local.hour * 4 + local.minute // 15] = price
            self._starts.add(int(ts.timestamp()))
        if not self._by_day:
            raise ValueError("no prices")
        self._complete: dict[date, bool] = {}
        self._season_weeks: dict[int, dict[int, date]] | None = None
        if not any(self.complete(d) for d in sorted(self._by_day)):
            raise ValueError("no day with a price for every hour")

    @property
    def _weeks(self) -> dict[int, dict[int, date]]:
        """Per month: weekday -> a complete date, for the season fallback (built when first
        needed: checking every day of a long table takes a while)."""
        if self._season_weeks is None:
            self._season_weeks = {}
            for d in sorted(self._by_day):
                if self.complete(d):
                    self._season_weeks.setdefault(d.month, {}).setdefault(d.weekday(), d)
        return self._season_weeks

    @classmethod
    def shipped(cls, tz: ZoneInfo, name: str = SHIPPED_WEEKS) -> DayAheadPrices:
        return cls.from_csv(shipped_path(name), tz)

    @classmethod
    def from_csv(cls, path: Path, tz: ZoneInfo) -> DayAheadPrices:
        """A price table from a CSV file, gzip-compressed when its name ends in .gz."""
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        return cls(_read_rows(data.decode("utf-8")), tz)

    def missing_hours(self, start: datetime, end: datetime) -> list[datetime]:
        """The local hours in [start, end) without a price of their own: an hour is covered
        when each of its quarter-hours has its own price or its hour's (as quarter_price reads them)."""
        missing: list[datetime] = []
        t = int(start.timestamp()) // SLOT_S * SLOT_S
        while t < end.timestamp():
            local = datetime.fromtimestamp(t, self._tz)
            hour = t - local.minute * 60
            if t not in self._starts and hour not in self._starts:
                at = datetime.fromtimestamp(hour, self._tz)
                if not missing or missing[-1] != at:
                    missing.append(at)
            t += SLOT_S
        return missing

    def complete(self, d: date) -> bool:
        """Whether every hour of local day d has its price."""
        known = self._complete.get(d)
        if known is None:
            start = datetime.combine(d, time(0), tzinfo=self._tz)
            known = d in self._by_day and not self.missing_hours(start, datetime.combine(
                d + timedelta(days=1), time(0), tzinfo=self._tz))
            self._complete[d] = known
        return known

    def covered_range(self) -> tuple[datetime, datetime]:
        """The first and the last price's start, local time."""
        return (datetime.fromtimestamp(min(self._starts), self._tz),
                datetime.fromtimestamp(max(self._starts), self._tz))

    def source_date(self, d: date, fallback: DayAheadPrices | None = None) -> tuple[DayAheadPrices, date]:
        """The table and date whose prices stand in for the simulated date d: d itself
        only when the table has every hour of it (one hour does not make a day)."""
        if self.complete(d):
            return self, d
        for years in range(1, 25):
            earlier = d - timedelta(weeks=52 * years)
            if self.complete(earlier):
                return self, earlier
        if fallback is not None:
            return fallback.source_date(d)
        week = self._weeks.get(_SEASON_MONTH[d.month]) or next(iter(self._weeks.values()))
        return self, week.get(d.weekday(), next(iter(week.values())))

    def quarter_price(self, d: date, quarter: int) -> float:
        """The price of local quarter-hour `quarter` (0..95) of day d: its own price in a
        15-minute table, its hour's price in an hourly one."""
        quarters = self._by_day[d]
        if quarter in quarters:
            return quarters[quarter]
        hour_start = quarter - quarter % 4
        if hour_start in quarters:
            return quarters[hour_start]
        # A DST day misses or repeats an hour; the nearest one stands in.
        return quarters[min(quarters, key=lambda q: abs(q - quarter))]


def shipped_path(name: str) -> Path:
    """A price file shipped with the package (a plain file in every install pip makes)."""
    return Path(str(resources.files("smartload.sim").joinpath("data", name)))


class GridTariff:
    """Consumer grid price, fixed feed-in and the published horizon, in 15-minute slots."""

    def __init__(self, spec: TariffSpec, tz: ZoneInfo, prices: DayAheadPrices,
                 fallback: DayAheadPrices | None = None) -> None:
        self.spec = spec
        self._tz = tz
        self._prices = prices
        self._fallback = fallback
        self._day_cache: dict[date, list[float]] = {}
        self._slot_start = -1.0
        self._slot_value = 0.0

    @property
    def prices(self) -> DayAheadPrices:
        return self._prices

    def source_of(self, d: date) -> tuple[DayAheadPrices, date]:
        """The table and date whose prices the simulated date d takes."""
        return self._prices.source_date(d, self._fallback)

    def day_ahead_eur_per_mwh(self, d: date) -> list[float]:
        """The source day-ahead price of each 15-minute slot of local day d."""
        table, source = self.source_of(d)
        return [table.quarter_price(source, quarter) for _, quarter in slot_clock(day_for(d, self._tz), self._tz)]

    def _day_slots(self, d: date) -> list[float]:
        cached = self._day_cache.get(d)
        if cached is None:
            vat, markup = self.spec.vat, self.spec.markup_eur_per_kwh
            cached = [round(p / 1000.0 * (1 + vat) + markup, 5) for p in self.day_ahead_eur_per_mwh(d)]
            if len(self._day_cache) > 16:
                self._day_cache.clear()
            self._day_cache[d] = cached
        return cached

    def price_at(self, t: float) -> float:
        """Consumer price in EUR/kWh at epoch t: day-ahead x (1 + VAT) + markup."""
        start = slot_start(t)
        if start != self._slot_start:
            day = day_of(t, self._tz)
            self._slot_value = self._day_slots(day.date)[int((start - day.start) // SLOT_S)]
            self._slot_start = start
        return self._slot_value

    @property
    def feedin(self) -> float:
        return self.spec.feedin_eur_per_kwh

    def horizon_end(self, t: float) -> float:
        """End of the published prices: today's midnight, or tomorrow's from 13:00 on."""
        day = day_of(t, self._tz)
        local = datetime.fromtimestamp(t, self._tz)
        if local.hour < PUBLISH_HOUR:
            return day.end
        return day_for(day.date + timedelta(days=1), self._tz).end

    def grid_rates(self, t: float) -> list[tuple[float, float, float]]:
        """(start, end, EUR/kWh) from the current slot to the end of the published horizon."""
        rates: list[tuple[float, float, float]] = []
        end = self.horizon_end(t)
        day = day_of(t, self._tz)
        cursor = slot_start(t)
        while cursor < end:
            if cursor >= day.end:
                day = day_for(day.date + timedelta(days=1), self._tz)
            values = self._day_slots(day.date)
            index = int((cursor - day.start) // SLOT_S)
            rates.append((cursor, cursor + SLOT_S, values[index]))
            cursor += SLOT_S
        return rates

    def feedin_rates(self, t: float) -> list[tuple[float, float, float]]:
        return [(s, e, self.feedin) for s, e, _ in self.grid_rates(t)]
