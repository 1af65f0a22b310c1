"""Call budgets per provider and car: a daily limit, a minimum interval, backoff.

The refresh stream keeps its own budget per vehicle; this one sits inside each cloud
provider so that a car is never asked (or woken) more often than its maker tolerates,
whoever calls `fetch`. It is pure: no I/O, and time comes from the injected clock.

Its settings model, BudgetSettings, lives in smartload.settings.providers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Literal

from smartload.backoff import backoff_delay
from smartload.settings.providers import BudgetSettings
from smartload.vehicles.base import ProviderError

__all__ = ["CallBudget", "next_local_midnight", "utc_now"]


RefusalReason = Literal["daily_limit", "min_interval", "backoff"]


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: RefusalReason
    retry_after_s: float
    message: str


def utc_now() -> datetime:
    return datetime.now(UTC)


def next_local_midnight(now: datetime, tz: tzinfo) -> datetime:
    """The next midnight of the site's calendar, in UTC (DST-safe)."""
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=tz).astimezone(UTC)


class CallBudget:
    """The calls one provider may still make for one car.

    `take` either counts a call or raises ProviderError("budget: ...") with the seconds
    until a call would be allowed; the caller makes no network request then.
    """

    def __init__(self, label: str, settings: BudgetSettings, tz: tzinfo, clock: Callable[[], datetime]) -> None:
        self.label = label
        self.settings = settings
        self._tz = tz
        self._clock = clock
        self._day: object = None
        self._calls_today = 0
        self._last_call: datetime | None = None
        self._failures = 0
        self._blocked_until: datetime | None = None
        self.calls_total = 0

    @property
    def calls_today(self) -> int:
        self._roll_day(self._clock())
        return self._calls_today

    @property
    def blocked_until(self) -> datetime | None:
        return self._blocked_until

    def _roll_day(self, now: datetime) -> None:
        day = now.astimezone(self._tz).date()
        if day != self._day:
            self._day, self._calls_today = day, 0

    def refusal(self, now: datetime | None = None) -> Refusal | None:
        """Why a call may not go out now, or None. Changes nothing but the day counter."""
        now = now or self._clock()
        self._roll_day(now)
        if self._blocked_until is not None and now < self._blocked_until:
            wait = (self._blocked_until - now).total_seconds()
            return Refusal("backoff", wait, f"{self.label} backing off for {wait:.0f} s after failures")
        if self._calls_today >= self.settings.daily_limit:
            wait = (next_local_midnight(now, self._tz) - now).total_seconds()
            return Refusal(
                "daily_limit", wait, f"{self.label} used its {self.settings.daily_limit} calls for today"
            )
        if self._last_call is not None and now - self._last_call < self.settings.min_interval:
            wait = (self._last_call + self.settings.min_interval - now).total_seconds()
            return Refusal(
                "min_interval",
                wait,
                f"{self.label} was called {(now - self._last_call).total_seconds():.0f} s ago "
                f"(minimum interval {self.settings.min_interval.total_seconds():.0f} s)",
            )
        return None

    def take(self) -> None:
        """Count one call now, or raise ProviderError("budget: ...") without counting it."""
        now = self._clock()
        refused = self.refusal(now)
        if refused is not None:
            raise ProviderError(f"budget: {refused.message}", retry_after_s=refused.retry_after_s)
        self._calls_today += 1
        self.calls_total += 1
        self._last_call = now

    def succeeded(self) -> None:
        self._failures, self._blocked_until = 0, None

    def failed(self, retry_after_s: float | None = None) -> float:
        """A retryable failure (429, 5xx, timeout, bad body): back off exponentially,
        at least as long as the cloud asked. Returns the wait in seconds."""
        now = self._clock()
        self._failures += 1
        # Never more than 2 ** 30 times backoff_initial, as before backoff_delay (the cap kept
        # timedelta from overflowing); it binds only where backoff_max is beyond that.
        wait = backoff_delay(self.settings.backoff_initial, self.settings.backoff_max, min(self._failures, 31))
        if retry_after_s is not None:
            wait = max(wait, timedelta(seconds=retry_after_s))
        self._block(now + wait)
        return wait.total_seconds()

    def block_until_tomorrow(self) -> float:
        """The cloud said the day's quota is used up: no call before local midnight."""
        now = self._clock()
        self._failures += 1
        until = next_local_midnight(now, self._tz)
        self._block(until)
        return (until - now).total_seconds()

    def _block(self, until: datetime) -> None:
        if self._blocked_until is None or until > self._blocked_until:
            self._blocked_until = until
