"""What every refresh lane of one vehicle shares: the daily call budget and the cloud's
backoff. Pure: the caller passes the time in, so it runs the same live and in replays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from smartload.backoff import backoff_delay

Refusal = Literal["backoff", "budget_exhausted", "budget_reserved"]


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    """throttle: routine and manual refreshes go out at most once per window each; a car
    back at a wallbox within it of leaving has not been anywhere (a flapping cable).
    retries: how often a plug-in refresh refused for backoff, or failed, is tried again
    when the backoff ends (per stay)."""

    throttle: timedelta
    daily_budget: int
    backoff_initial: timedelta
    backoff_max: timedelta
    retries: int = 3


def clock_time(at: datetime, tz: tzinfo) -> str:
    """A time of day on the site's clock, for the reasons people read."""
    return at.astimezone(tz).strftime("%H:%M:%S")


class RefreshGate:
    """Daily budget (reset at local midnight) and backoff for one vehicle."""

    def __init__(self, policy: RefreshPolicy, tz: tzinfo) -> None:
        self._policy = policy
        self._tz = tz
        self._day: object = None
        self.calls_today = 0
        self._failures = 0
        self.blocked_until: datetime | None = None

    def check(self, now: datetime, spare: bool = False) -> Refusal | None:
        """None if a call may go out now (it is counted), else why not. A spare call (not
        prompted by a plug-in or a person) may use only the first half of the budget."""
        day = now.astimezone(self._tz).date()
        if day != self._day:
            self._day, self.calls_today = day, 0
        if self.blocked_until is not None and now < self.blocked_until:
            return "backoff"
        if self.calls_today >= self._policy.daily_budget:
            return "budget_exhausted"
        if spare and self.calls_today >= self._policy.daily_budget // 2:
            return "budget_reserved"
        self.calls_today += 1
        return None

    def why(self, refusal: Refusal) -> str:
        budget = self._policy.daily_budget
        if refusal == "backoff":
            assert self.blocked_until is not None
            return f"the cloud is not asked again before {clock_time(self.blocked_until, self._tz)}"
        if refusal == "budget_exhausted":
            return f"all {budget} calls of today's budget are used"
        return f"routine refreshes may use {budget // 2} of the {budget} calls a day; the rest is kept for plug-ins"

    def succeeded(self) -> None:
        self._failures, self.blocked_until = 0, None

    def failed(self, now: datetime, retry_after_s: float | None) -> None:
        """Back off exponentially, and at least as long as the cloud asked (Retry-After)."""
        self._failures += 1
        wait = backoff_delay(self._policy.backoff_initial, self._policy.backoff_max, self._failures)
        if retry_after_s is not None:
            wait = max(wait, timedelta(seconds=retry_after_s))
        self.blocked_until = now + wait
