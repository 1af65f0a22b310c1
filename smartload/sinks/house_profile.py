"""The house-load forecast: a per-quarter-hour-of-day profile learned from what the
house draws besides the cars (evcc's homePower plus any heat pump at a loadpoint),
separately for workdays and weekends, with a constant fallback until a quarter-hour has
been seen."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo

from smartload.domain import SiteState

_BINS = 96
# A poll after a longer silence (evcc down, a restart) counts as this much observed time:
# the one reading stands for the moment, not for the whole gap.
_MAX_STEP = timedelta(minutes=5)
_FIRST_STEP = timedelta(minutes=1)

BinKey = tuple[bool, int]  # (weekend, local quarter-hour of the day)


class HouseProfile:
    """Exponential moving average per (day type, local quarter-hour), weighted by observed
    time so the memory does not depend on the poll interval: each minute of readings moves
    its quarter-hour's mean by `rate_per_min` of the difference. A quarter-hour is seen
    15 minutes a day, so 0.01 keeps a day's weight to 0.99^15 = 86 % of the previous
    day's, about a week of memory. `learned` restores what an earlier run had learned."""

    def __init__(self, tz: tzinfo, fallback_w: float, rate_per_min: float = 0.01,
                 learned: Mapping[BinKey, float] | None = None) -> None:
        self._tz = tz
        self._fallback_w = fallback_w
        self._rate_per_min = rate_per_min
        self._mean: dict[BinKey, float] = dict(learned or {})
        self._last_at: datetime | None = None

    def _key(self, at: datetime) -> BinKey:
        local = at.astimezone(self._tz)
        return local.weekday() >= 5, (local.hour * 60 + local.minute) // 15

    def observe(self, at: datetime, home_power_w: float | None) -> None:
        if home_power_w is None or home_power_w < 0:
            return
        step = _FIRST_STEP if self._last_at is None else min(max(at - self._last_at, timedelta(0)), _MAX_STEP)
        self._last_at = at
        key = self._key(at)
        old = self._mean.get(key)
        if old is None:
            self._mean[key] = home_power_w
            return
        weight = min(1.0, self._rate_per_min * (step.total_seconds() / 60))
        self._mean[key] = old + weight * (home_power_w - old)

    def at(self, when: datetime) -> float:
        return self._mean.get(self._key(when), self._fallback_w)

    def mean_w(self, start: datetime, end: datetime) -> float:
        """Average over [start, end), sampled on each quarter-hour it touches."""
        points, t = [], start
        while t < end:
            points.append(self.at(t))
            t += timedelta(minutes=15)
        return sum(points) / len(points) if points else self._fallback_w

    def learned(self) -> dict[BinKey, float]:
        """What has been learned so far, to be kept across a restart."""
        return dict(self._mean)

    @property
    def learned_bins(self) -> int:
        return len(self._mean)

    def __repr__(self) -> str:
        return f"HouseProfile({self.learned_bins}/{2 * _BINS} quarter-hours learned, fallback {self._fallback_w} W)"


def house_load_w(state: SiteState) -> float | None:
    """What the house draws besides the cars: evcc's home power leaves out every
    loadpoint, a heat pump's too, which smartload does not plan but must expect."""
    if state.home_power_w is None:
        return None
    devices = sum(lp.charge_power_w or 0.0 for lp in state.loadpoints if lp.is_device)
    return state.home_power_w + devices
