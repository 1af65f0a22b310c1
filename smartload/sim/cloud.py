"""A fake car-maker cloud per simulated car: the SoC as of the car's last wake-up.

The car wakes up (and reports its SoC) when it leaves, comes back, is plugged in or
unplugged, and every `wake_interval_s` while it charges. A report reaches the cloud
`staleness_s` after the car measured it, so right after a plug-in the cloud may still
hold the previous reading. Requests are counted per local day; past `daily_limit` the
cloud answers 429 until local midnight. Answers take `latency_s` (simulated time).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from smartload.sim.days import day_of, rfc3339
from smartload.sim.scenario import CloudSpec


@dataclass(frozen=True, slots=True)
class CloudAnswer:
    status: int
    body: dict[str, Any]  # the JSON body, as a client decodes it
    delay_s: float
    # Seconds of simulated time until requests are accepted again (429 only).
    retry_after_s: float | None = None


class CarCloud:
    def __init__(self, vehicle: str, spec: CloudSpec, tz: ZoneInfo, soc_pct: float, now: float) -> None:
        self.vehicle = vehicle
        self.spec = spec
        self._tz = tz
        self._published: tuple[float, float] = (soc_pct, now)
        self._pending: deque[tuple[float, float, float]] = deque()
        self._day_end = 0.0
        self._used = 0
        self.requests = 0
        self.rejected = 0

    def wake(self, soc_pct: float, now: float) -> None:
        """The car measured its SoC; the cloud learns it after the staleness delay."""
        self._pending.append((now + self.spec.staleness_s, soc_pct, now))
        self._deliver(now)

    def _deliver(self, now: float) -> None:
        while self._pending and self._pending[0][0] <= now:
            _, soc, measured = self._pending.popleft()
            self._published = (soc, measured)

    def reading(self, now: float) -> tuple[float, float]:
        """(soc_pct, measured_at) the cloud holds at `now`."""
        self._deliver(now)
        return self._published

    def request(self, now: float) -> CloudAnswer:
        """One GET of the car's SoC at simulated time `now`."""
        self.requests += 1
        if now >= self._day_end:
            self._day_end = day_of(now, self._tz).end
            self._used = 0
        limit = self.spec.daily_limit
        if limit is not None and self._used >= limit:
            self.rejected += 1
            body: dict[str, object] = {
                "error": f"daily request limit of {limit} reached",
                "reset_at": rfc3339(self._day_end),
            }
            return CloudAnswer(429, body, self.spec.latency_s, self._day_end - now)
        self._used += 1
        soc, measured = self.reading(now)
        return CloudAnswer(200, {"soc": round(soc, 1), "measured_at": rfc3339(measured)}, self.spec.latency_s)
