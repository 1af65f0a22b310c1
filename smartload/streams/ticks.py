"""Decision ticks aligned to the wall clock, and the snapshot each tick carries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import DisposableBase, ObserverBase, SchedulerBase
from reactivex.scheduler import TimeoutScheduler

from smartload.domain import PollError, SiteState, Snapshot, Tariffs
from smartload.streams.soc import SocTable
from smartload.streams.sync import seeded

Trigger = tuple[datetime, str]


def next_aligned(now: datetime, period: timedelta) -> datetime:
    """The first multiple of `period` (counted from midnight UTC) strictly after now.

    Periods divide an hour, so UTC alignment is also local alignment in every real zone
    with a whole- or half-hour offset."""
    step = period.total_seconds()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - midnight).total_seconds()
    return midnight + timedelta(seconds=(elapsed // step + 1) * step)


def aligned_ticks(period: timedelta) -> Observable[datetime]:
    """Ticks at :00, :15, :30, :45 (for 15 min). An absolute-start timer adds the period
    to the due time, so it stays on the clock instead of drifting like interval()."""

    def build(scheduler: SchedulerBase | None) -> Observable[datetime]:
        clock = scheduler or TimeoutScheduler.singleton()
        first = next_aligned(clock.now, period)

        def at(n: int) -> datetime:
            return first + n * period

        return rx.timer(first, period).pipe(ops.map(at))

    return rx.defer(build)


def snapshots(
    triggers: Observable[tuple[datetime, str]],
    states: Observable[SiteState],
    socs: Observable[SocTable],
    tariffs: Observable[Tariffs],
    errors: Observable[PollError | None],
) -> Observable[Snapshot]:
    """On each trigger (tick or event), the latest of everything a planner decides from.

    Each input is seeded so a tick before the first successful poll still yields a
    snapshot (with state None) instead of being dropped by with_latest_from."""
    empty_socs: SocTable = {}

    def snapshot(t: tuple[Trigger, SiteState | None, SocTable, Tariffs, PollError | None]) -> Snapshot:
        return Snapshot(at=t[0][0], state=t[1], socs=t[2], tariffs=t[3], reason=t[0][1], last_error=t[4])

    return triggers.pipe(
        ops.with_latest_from(
            seeded(states, None),
            seeded(socs, empty_socs),
            seeded(tariffs, Tariffs()),
            seeded(errors, None),
        ),
        ops.map(snapshot),
    )


class _Window:
    """One rate-limit window: open after an emission, collecting what arrives inside it."""

    def __init__(self) -> None:
        self.open = False
        self.pending: list[Trigger] = []


def at_most_every(window: timedelta) -> Callable[[Observable[Trigger]], Observable[Trigger]]:
    """Pass the first trigger at once; triggers inside the window that follows collapse
    into one emitted when the window closes (reasons joined), so a burst of events
    re-plans at most once per window and the last event is never lost."""

    def operator(source: Observable[Trigger]) -> Observable[Trigger]:
        def subscribe(observer: ObserverBase[Trigger], scheduler: SchedulerBase | None = None) -> DisposableBase:
            clock = scheduler or TimeoutScheduler.singleton()
            state = _Window()

            def emit(trigger: Trigger) -> None:
                state.open = True
                observer.on_next(trigger)
                clock.schedule_relative(window, close)

            def close(*_: object) -> None:
                pending, state.pending = state.pending, []
                if pending:
                    emit((clock.now, "; ".join(dict.fromkeys(reason for _, reason in pending))))
                else:
                    state.open = False

            def on_next(trigger: Trigger) -> None:
                if state.open:
                    state.pending.append(trigger)
                else:
                    emit(trigger)

            return source.subscribe(on_next, observer.on_error, observer.on_completed, scheduler=scheduler)

        return rx.create(subscribe)

    return operator
