"""The house-load forecast: a per-quarter-hour-of-day profile learned from evcc's
homePower, separately for workdays and weekends, with a constant fallback until a
quarter-hour has been seen."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

_BINS = 96


class HouseProfile:
    """Exponential moving average per (day type, local quarter-hour). alpha 0.1 per poll
    of a quarter-hour keeps about a week of memory at 10-second polls."""

    def __init__(self, tz: tzinfo, fallback_w: float, alpha: float = 0.01) -> None:
        self._tz = tz
        self._fallback_w = fallback_w
        self._alpha = alpha
        self._mean: dict[tuple[bool, int], float] = {}

    def _key(self, at: datetime) -> tuple[bool, int]:
        local = at.astimezone(self._tz)
        return local.weekday() >= 5, (local.hour * 60 + local.minute) // 15

    def observe(self, at: datetime, home_power_w: float | None) -> None:
        if home_power_w is None or home_power_w < 0:
            return
        key = self._key(at)
        old = self._mean.get(key)
        self._mean[key] = home_power_w if old is None else old + self._alpha * (home_power_w - old)

    def at(self, when: datetime) -> float:
        return self._mean.get(self._key(when), self._fallback_w)

    def mean_w(self, start: datetime, end: datetime) -> float:
        """Average over [start, end), sampled on each quarter-hour it touches."""
        points, t = [], start
        while t < end:
            points.append(self.at(t))
            t += timedelta(minutes=15)
        return sum(points) / len(points) if points else self._fallback_w

    @property
    def learned_bins(self) -> int:
        return len(self._mean)

    def __repr__(self) -> str:
        return f"HouseProfile({self.learned_bins}/{2 * _BINS} quarter-hours learned, fallback {self._fallback_w} W)"
