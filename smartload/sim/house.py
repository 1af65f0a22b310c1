"""House load from the BDEW H25 standard load profile, scaled to an annual consumption.

H25 gives a typical day per month and day type (working day, Saturday, Sunday/holiday)
already per month, so unlike H0 it needs no dynamisation polynomial.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

import numpy as np

from smartload.sim.days import Day, slot_clock
from smartload.sim.scenario import HouseSpec

_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember")
_REFERENCE_YEAR = 2025


def _easter(year: int) -> date:
    # Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    day_l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * day_l) // 433
    month = (h + day_l - 7 * m + 90) // 25
    return date(year, month, (h + day_l - 7 * m + 33 * month + 19) % 32)


@lru_cache(maxsize=64)
def german_holidays(year: int) -> frozenset[date]:
    """Nationwide public holidays in Germany (the ones every state observes)."""
    easter = _easter(year)
    fixed = {date(year, 1, 1), date(year, 5, 1), date(year, 10, 3), date(year, 12, 25), date(year, 12, 26)}
    moving = {easter + timedelta(days=n) for n in (-2, 1, 39, 50)}
    return frozenset(fixed | moving)


def day_type(d: date) -> str:
    if d.weekday() == 6 or d in german_holidays(d.year):
        return "FT"
    return "SA" if d.weekday() == 5 else "WT"


def _load_profile() -> dict[tuple[int, str], list[float]]:
    """(month 1..12, day type) -> 96 quarter-hour energies in kWh per 1e6 kWh/a."""
    text = resources.files("smartload.sim").joinpath("data", "bdew_h25_typical_days.csv").read_text(
        encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    months, kinds = rows[0][1:], rows[1][1:]
    columns = [(_MONTHS.index(m) + 1, k) for m, k in zip(months, kinds, strict=True)]
    profile: dict[tuple[int, str], list[float]] = {c: [] for c in columns}
    for row in rows[2:]:
        for column, value in zip(columns, row[1:], strict=True):
            profile[column].append(float(value))
    return profile


class HouseModel:
    """Per-minute house consumption of a local day, seeded noise included, cached per day."""

    def __init__(self, spec: HouseSpec, tz: ZoneInfo, seed: int) -> None:
        self._spec = spec
        self._tz = tz
        self._seed = seed
        self._profile = _load_profile()
        reference = sum(
            sum(self._profile[(d.month, day_type(d))])
            for d in (date(_REFERENCE_YEAR, 1, 1) + timedelta(days=n) for n in range(365))
        )
        # Quarter-hour kWh (normalised) -> W for the configured annual consumption.
        self._scale_w = spec.annual_kwh / reference * 4000.0
        self.minutes = lru_cache(maxsize=4)(self._minutes)

    def mean_power_w(self, d: date, quarter_hour: int) -> float:
        """The profile's power without noise at one local quarter-hour."""
        return self._profile[(d.month, day_type(d))][quarter_hour] * self._scale_w

    def _minutes(self, day: Day) -> list[float]:
        values = self._profile[(day.date.month, day_type(day.date))]
        per_slot = [values[qh] * self._scale_w for _, qh in slot_clock(day, self._tz)]
        base = np.repeat(np.asarray(per_slot), 15)[: day.minutes]
        sigma = self._spec.noise
        if sigma <= 0:
            return [float(v) for v in base]
        rng = np.random.default_rng([self._seed, day.date.toordinal(), 2])
        # Log-normal with mean 1, so the noise keeps the annual energy.
        noise = np.exp(rng.normal(-sigma * sigma / 2, sigma, size=day.minutes))
        return [float(v) for v in base * noise]
