"""The evcc poll source and the outage view of it.

A poll never errors the stream: the fetch adapter turns every failure into a PollError,
so a dead evcc shows up as health events and the same subscription resumes by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import SchedulerBase
from reactivex.scheduler import TimeoutScheduler

from smartload.backoff import backoff_delay
from smartload.domain import Poll, PollError, RawPoll, SiteState


class _Backoff:
    """Skips poll ticks after consecutive failures: period, 2x, 4x ... up to a maximum."""

    def __init__(self, period: timedelta, maximum: timedelta) -> None:
        self._period = period
        self._maximum = max(maximum, period)
        self._failures = 0
        self._next_at: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self._next_at is None or now >= self._next_at

    def record(self, poll: RawPoll) -> None:
        # Only transport failures back off; a body that fails to parse is evcc answering.
        if poll.error is not None and poll.error.kind != "parse":
            self._failures += 1
            wait = backoff_delay(self._period, self._maximum, self._failures)
            # Half a period of slack so a tick landing exactly on the deadline still polls.
            self._next_at = poll.at + wait - self._period / 2
        else:
            self._failures = 0
            self._next_at = None


def poll_source(
    fetch: Callable[[], Observable[RawPoll]], period: timedelta, backoff_max: timedelta
) -> Observable[RawPoll]:
    """Poll at once, then every `period`; skip ticks while a poll is in flight (exclusive)
    and back off while evcc fails. Shared, so every branch sees the same polls."""

    def build(scheduler: SchedulerBase | None) -> Observable[RawPoll]:
        clock = scheduler or TimeoutScheduler.singleton()
        gate = _Backoff(period, backoff_max)
        return rx.timer(0.0, period).pipe(
            ops.filter(lambda _: gate.due(clock.now)),
            ops.map(lambda _: fetch()),
            ops.exclusive(),
            ops.do_action(gate.record),
        )

    return rx.defer(build).pipe(ops.share())


def parsed(raw_polls: Observable[RawPoll], parse: Callable[[bytes, datetime], Poll]) -> Observable[Poll]:
    """Raw bodies to states; a transport failure passes through as its PollError."""

    def to_poll(raw: RawPoll) -> Poll:
        return raw.error if raw.error is not None else parse(raw.body or b"", raw.at)

    return raw_polls.pipe(ops.map(to_poll))


# site_states, poll_errors: reactivex's filter keeps its input type, so an isinstance filter
# cannot narrow a Poll.
def site_states(polls: Observable[Poll]) -> Observable[SiteState]:
    return polls.pipe(ops.filter(lambda p: isinstance(p, SiteState)))  # type: ignore[arg-type]


def poll_errors(polls: Observable[Poll]) -> Observable[PollError]:
    return polls.pipe(ops.filter(lambda p: isinstance(p, PollError)))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Outage:
    """An outage began (ended_at None) or ended; one event each, not one per failed poll."""

    started_at: datetime
    first_error: str
    ended_at: datetime | None = None
    failed_polls: int = 0


def _event(acc: tuple[Outage | None, Outage | None]) -> Outage | None:
    return acc[1]


def outages(polls: Observable[Poll]) -> Observable[Outage]:
    """Collapse runs of failed polls into a start and an end event."""

    def step(acc: tuple[Outage | None, Outage | None], poll: Poll) -> tuple[Outage | None, Outage | None]:
        current, _ = acc
        if isinstance(poll, PollError) and poll.kind != "parse":
            if current is None:
                started = Outage(poll.at, f"{poll.kind}: {poll.message}", failed_polls=1)
                return started, started
            return Outage(current.started_at, current.first_error, None, current.failed_polls + 1), None
        if isinstance(poll, SiteState) and current is not None:
            ended = Outage(current.started_at, current.first_error, poll.at, current.failed_polls)
            return None, ended
        return current, None

    seed: tuple[Outage | None, Outage | None] = (None, None)
    events: Observable[Outage | None] = polls.pipe(ops.scan(step, seed), ops.map(_event))
    # reactivex's filter keeps its input type; it cannot narrow Outage | None to Outage.
    return events.pipe(ops.filter(lambda event: event is not None))  # type: ignore[arg-type]
