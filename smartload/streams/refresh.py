"""The refresh stream: fresh SoC from a vehicle's cloud when it is plugged in.

Per vehicle: throttle_first (one call per window, reacting at once), then a gate that
enforces the daily call budget and exponential backoff after failures, then the
provider call, caught per request so one failure never ends the stream.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import SchedulerBase
from reactivex.observable import GroupedObservable
from reactivex.scheduler import TimeoutScheduler

from smartload.domain import ConnectionEdge, RefreshOutcome, SocReading
from smartload.vehicles.base import ProviderError, ProviderUnsupported, VehicleProvider


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    throttle: timedelta
    daily_budget: int
    backoff_initial: timedelta
    backoff_max: timedelta


class RefreshGate:
    """Daily budget (reset at local midnight) and backoff for one vehicle. Pure: the
    caller passes the time in."""

    def __init__(self, policy: RefreshPolicy, tz: tzinfo) -> None:
        self._policy = policy
        self._tz = tz
        self._day: object = None
        self.calls_today = 0
        self._failures = 0
        self._blocked_until: datetime | None = None

    def check(self, now: datetime, spare: bool = False) -> str | None:
        """None if a call may go out now, else the reason it may not. A spare call (not
        prompted by a plug-in or a person) may use only the first half of the budget."""
        day = now.astimezone(self._tz).date()
        if day != self._day:
            self._day, self.calls_today = day, 0
        if self._blocked_until is not None and now < self._blocked_until:
            return "backoff"
        if self.calls_today >= self._policy.daily_budget:
            return "budget_exhausted"
        if spare and self.calls_today >= self._policy.daily_budget // 2:
            return "budget_reserved"
        self.calls_today += 1
        return None

    def succeeded(self) -> None:
        self._failures, self._blocked_until = 0, None

    def failed(self, now: datetime, retry_after_s: float | None) -> None:
        self._failures += 1
        wait = min(self._policy.backoff_initial * 2 ** (self._failures - 1), self._policy.backoff_max)
        if retry_after_s is not None:
            wait = max(wait, timedelta(seconds=retry_after_s))
        self._blocked_until = now + wait


def _call(
    provider: VehicleProvider, gate: RefreshGate, edge: ConnectionEdge, now: Callable[[], datetime]
) -> Observable[RefreshOutcome]:
    requested_at = now()
    refused = gate.check(requested_at, spare=edge.reason == "unplugged")
    if refused is not None:
        return rx.of(RefreshOutcome(edge.vehicle, edge.at, requested_at, refused))  # type: ignore[arg-type]

    def ok(reading: SocReading) -> RefreshOutcome:
        gate.succeeded()
        return RefreshOutcome(edge.vehicle, edge.at, requested_at, "ok", now(), reading)

    def failed(error: Exception, _: Observable[RefreshOutcome]) -> Observable[RefreshOutcome]:
        if isinstance(error, ProviderUnsupported):
            return rx.of(
                RefreshOutcome(edge.vehicle, edge.at, requested_at, "unsupported", now(), error=str(error))
            )
        retry_after = error.retry_after_s if isinstance(error, ProviderError) else None
        gate.failed(now(), retry_after)
        message = str(error) or type(error).__name__
        return rx.of(RefreshOutcome(edge.vehicle, edge.at, requested_at, "failed", now(), error=message))

    return provider.fetch(edge.vehicle).pipe(ops.take(1), ops.map(ok), ops.catch(failed))


def refreshes(
    edges: Observable[ConnectionEdge],
    providers: Mapping[str, VehicleProvider],
    policies: Mapping[str, RefreshPolicy],
    tz: tzinfo,
) -> Observable[RefreshOutcome]:
    """One outcome per edge that passed the throttle: ok with a reading, or why not.

    Edges of vehicles without a provider are ignored (evcc's own SoC still flows)."""

    def per_vehicle(group: GroupedObservable[str, ConnectionEdge]) -> Observable[RefreshOutcome]:
        provider, policy = providers[group.key], policies[group.key]

        def build(scheduler: SchedulerBase | None) -> Observable[RefreshOutcome]:
            gate = RefreshGate(policy, tz)
            clock = scheduler or TimeoutScheduler.singleton()

            def now() -> datetime:
                return clock.now

            return group.pipe(
                ops.throttle_first(policy.throttle),
                ops.concat_map(lambda edge: _call(provider, gate, edge, now)),
            )

        return rx.defer(build)

    return edges.pipe(
        ops.filter(lambda e: e.vehicle in providers),
        ops.group_by(lambda e: e.vehicle),
        ops.flat_map(per_vehicle),
    )
