"""The PV forecast, corrected by what the panels produced today.

A day-ahead forecast (forecast.solar, Solcast, open-meteo) misses whole days: a day
that starts above or below its forecast tends to stay there. As evcc does with
`solarAdjusted` (E:core/site_tariffs.go `solarScale`, and `blendScale` in
core/site_optimizer.go), the rest of today is scaled by today's produced over forecast
energy so far, and the next hour is pulled towards what the last quarter-hour measured,
fading linearly to the day's scale. Tomorrow is left as forecast: today's weather says
little about it. By default it applies while evcc's own switch for it is on
(planning.solar_adjusted: evcc), as a user who turned it on in evcc expects.

Measured on the simulator's household weeks (`benchmarks/cost.py --quick --sites
household --months 1,4`): where the forecast misses each day's cloud level by 0.15
(`--pv-forecast-error 0.15`; morning and afternoon misses then correlate 0.56) it saved
0.35 EUR of 135.15 (2023-01 +0.22, 2023-04 -0.08, 2024-01 -0.12, 2024-04 -0.38); where
the forecast knows the day's level and only passing clouds miss it (the simulator's
default; correlation 0.29) it cost 0.65 EUR, nearly all one tie at a period's end.

The measured side is evcc's pvPower at every poll; the forecast side is the forecast
each quarter-hour had when it was current (what the planner saw, not a later revision).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Literal

from smartload.domain import Rate

QUARTER = timedelta(minutes=15)
# A poll after a longer silence (evcc down, a restart) stands for the moment, not the gap.
_MAX_STEP = timedelta(minutes=5)
# A quarter-hour counts once readings cover this much of it.
_MIN_COVER = timedelta(minutes=10)
# Below this forecast a quarter-hour's ratio says nothing (dawn, dusk, night).
_MIN_FORECAST_W = 100.0
# The day's scale and the last quarter-hour's ratio stay within these bounds: a meter
# that reads 0 for a while, or a forecast of almost nothing, must not wipe out or
# multiply the plan's PV.
_MIN_SCALE, _MAX_SCALE = 0.2, 3.0


def _clip(value: float) -> float:
    return min(_MAX_SCALE, max(_MIN_SCALE, value))


@dataclass(slots=True)
class _Quarter:
    weighted_w_s: float = 0.0  # measured power x observed seconds
    observed_s: float = 0.0
    forecast_w: float | None = None

    @property
    def measured_w(self) -> float:
        return self.weighted_w_s / self.observed_s


def _quarter_start(at: datetime) -> datetime:
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class SolarScale:
    """What the correction applies: the rest of today times `day`, and the quarter-hour
    now times `now`, fading to `day` over the blend window."""

    day: float
    now: float
    # Today's energy behind `day`, in kWh: what the forecast said and what came.
    forecast_kwh: float
    produced_kwh: float


class SolarCorrection:
    """adjusted: correct at all ("evcc": while evcc's solarAdjusted switch is on).
    day_prior_kwh: today's scale is (produced + prior) / (forecast + prior), so a
    morning's first half kWh moves it a little and a sunny afternoon's fifteen a lot.
    blend: how far ahead the last quarter-hour's ratio still counts (0: not at all)."""

    def __init__(self, tz: tzinfo, *, adjusted: bool | Literal["evcc"] = "evcc",
                 blend: timedelta = timedelta(hours=1), day_prior_kwh: float = 1.0) -> None:
        self._tz = tz
        self._adjusted = adjusted
        self._evcc_adjusted = False
        self._blend = blend
        self._prior_kwh = day_prior_kwh
        self._quarters: dict[datetime, _Quarter] = {}
        self._last_at: datetime | None = None
        self._last_w: float | None = None

    @property
    def enabled(self) -> bool:
        return self._evcc_adjusted if self._adjusted == "evcc" else self._adjusted

    def observe(self, at: datetime, pv_power_w: float | None, evcc_adjusted: bool | None = None) -> None:
        """One poll's PV power: the reading holds from it until the next poll (at most
        _MAX_STEP), so a quarter-hour's mean does not depend on the poll interval.
        evcc_adjusted: evcc's solarAdjusted switch as the poll shows it (None: not shown,
        off). Production is tracked either way, so switching it on corrects at once."""
        self._evcc_adjusted = bool(evcc_adjusted)
        if self._last_at is not None and self._last_w is not None and at > self._last_at:
            self._spread(self._last_at, min(at, self._last_at + _MAX_STEP), self._last_w)
        self._last_at, self._last_w = at, (pv_power_w if pv_power_w is not None and pv_power_w >= 0 else None)

    def _spread(self, start: datetime, end: datetime, watts: float) -> None:
        t = start
        while t < end:
            quarter = _quarter_start(t)
            stop = min(end, quarter + QUARTER)
            entry = self._quarters.setdefault(quarter, _Quarter())
            seconds = (stop - t).total_seconds()
            entry.weighted_w_s += watts * seconds
            entry.observed_s += seconds
            t = stop

    def forecast_seen(self, now: datetime, solar: tuple[Rate, ...]) -> None:
        """The forecast the planner has now: the current quarter-hour keeps what it said
        while current; older days are dropped."""
        quarter = _quarter_start(now)
        entry = self._quarters.setdefault(quarter, _Quarter())
        if entry.forecast_w is None:
            entry.forecast_w = _mean(solar, quarter, quarter + QUARTER)
        today = self._local_midnight(now)
        for old in [q for q in self._quarters if q < today]:
            del self._quarters[old]

    def _local_midnight(self, at: datetime, days: int = 0) -> datetime:
        """The local midnight that starts at's day (days=1: the one that ends it)."""
        day = at.astimezone(self._tz).date() + timedelta(days=days)
        return datetime.combine(day, time(0), tzinfo=self._tz)

    def scale(self, now: datetime) -> SolarScale:
        """Today's scale from the quarter-hours that are over, and the last one's ratio."""
        current = _quarter_start(now)
        done = sorted((q, e) for q, e in self._quarters.items()
                      if q < current and e.forecast_w is not None and e.observed_s >= _MIN_COVER.total_seconds())
        hours = QUARTER.total_seconds() / 3600
        forecast = sum(e.forecast_w or 0.0 for _, e in done) * hours / 1000
        produced = sum(e.measured_w for _, e in done) * hours / 1000
        day = _clip((produced + self._prior_kwh) / (forecast + self._prior_kwh))
        recent = day
        if done and done[-1][0] == current - QUARTER and (done[-1][1].forecast_w or 0.0) * day >= _MIN_FORECAST_W:
            last = done[-1][1]
            recent = _clip(last.measured_w / (last.forecast_w or 1.0))
        return SolarScale(day, recent, round(forecast, 3), round(produced, 3))

    def corrected(self, now: datetime, solar: tuple[Rate, ...]) -> tuple[Rate, ...]:
        """The forecast the planner plans with: the rest of today scaled, the next
        `blend` pulled towards the last quarter-hour: cut into quarter-hours there (an
        hourly forecast would otherwise carry one factor for a whole hour), and at
        midnight."""
        self.forecast_seen(now, solar)
        if not self.enabled or not solar:
            return solar
        scale = self.scale(now)
        if scale.day == 1.0 and scale.now == 1.0:
            return solar
        tomorrow = self._local_midnight(now, days=1)
        out: list[Rate] = []
        cut_until = now + self._blend
        for rate in solar:
            if rate.end <= now or rate.start >= tomorrow:
                out.append(rate)
                continue
            t = rate.start
            while t < rate.end:
                stop = _quarter_start(t) + QUARTER if t < cut_until else tomorrow if t < tomorrow else rate.end
                if t < tomorrow:
                    stop = min(stop, tomorrow)
                stop = min(stop, rate.end)
                out.append(Rate(t, stop, rate.value * self._factor(t, stop, now, tomorrow, scale)))
                t = stop
        return tuple(out)

    def _factor(self, start: datetime, stop: datetime, now: datetime, tomorrow: datetime, scale: SolarScale) -> float:
        if stop <= now or start >= tomorrow:
            return 1.0
        if self._blend <= timedelta(0):
            return scale.day
        middle = max(start, now) + (stop - max(start, now)) / 2
        weight = max(0.0, 1.0 - (middle - now) / self._blend)
        return weight * scale.now + (1.0 - weight) * scale.day


def _mean(rates: tuple[Rate, ...], start: datetime, end: datetime) -> float | None:
    """The time-weighted forecast over [start, end), or None where no rate covers it.
    Not planner.slots.RateSeries: importing smartload.planner loads HiGHS, which the
    service does only at its first plan (this module is read before the first poll)."""
    covered = weighted = 0.0
    for rate in rates:
        lo, hi = max(rate.start, start), min(rate.end, end)
        if hi > lo:
            seconds = (hi - lo).total_seconds()
            covered += seconds
            weighted += rate.value * seconds
    return weighted / covered if covered else None
