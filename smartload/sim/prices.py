"""Grid tariff from real day-ahead prices, published the way the auction publishes them.

The simulated calendar maps onto real prices: a date the price table covers is used as
is; otherwise the same weekday one or more 52-week years earlier; otherwise the same
weekday of the shipped representative week of the same season. So the default run works
on any real date. Prices are hourly or quarter-hourly; with hourly prices evcc's 15-minute
slots repeat the hour's price.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from smartload.sim.days import SLOT_S, day_for, day_of, slot_clock, slot_start
from smartload.sim.scenario import TariffSpec
from smartload.timefmt import parse_iso

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
        self._by_day: dict[date, dict[int, float]] = {}
        for ts, price in rows:
            local = ts.astimezone(tz)
            self._by_day.setdefault(local.date(), {})[local.hour * 4 + local.minute // 15] = price
        if not self._by_day:
            raise ValueError("no prices")
        # Per month: weekday -> a covered date, for the season fallback.
        self._weeks: dict[int, dict[int, date]] = {}
        for d in sorted(self._by_day):
            if len({q // 4 for q in self._by_day[d]}) >= 23:
                self._weeks.setdefault(d.month, {}).setdefault(d.weekday(), d)

    @classmethod
    def shipped(cls, tz: ZoneInfo) -> DayAheadPrices:
        text = resources.files("smartload.sim").joinpath("data", "prices_dayahead_de_lu_2024_weeks.csv")
        return cls(_read_rows(text.read_text(encoding="utf-8")), tz)

    @classmethod
    def from_csv(cls, path: Path, tz: ZoneInfo) -> DayAheadPrices:
        return cls(_read_rows(path.read_text(encoding="utf-8")), tz)

    def source_date(self, d: date, fallback: DayAheadPrices | None = None) -> tuple[DayAheadPrices, date]:
        """The table and covered date whose prices stand in for the simulated date d."""
        if d in self._by_day:
            return self, d
        for years in range(1, 25):
            earlier = d - timedelta(weeks=52 * years)
            if earlier in self._by_day:
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

    def day_ahead_eur_per_mwh(self, d: date) -> list[float]:
        """The source day-ahead price of each 15-minute slot of local day d."""
        table, source = self._prices.source_date(d, self._fallback)
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
