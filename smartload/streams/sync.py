"""Synchronous counterparts of operators that go through the scheduler.

rx.merge, flat_map over lists and start_with subscribe or emit via the scheduler. On a
HistoricalScheduler that puts them *behind* a poll already queued for the same virtual
instant (the first poll of a replay loses its events), and at 10-second polls the
per-item scheduling costs more than parsing the poll. These forward in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import reactivex as rx
from loguru import logger
from reactivex import Observable
from reactivex.abc import DisposableBase, ObserverBase, SchedulerBase
from reactivex.disposable import CompositeDisposable

A = TypeVar("A")
B = TypeVar("B")


T = TypeVar("T")


def expand(mapper: Callable[[A], Iterable[B]]) -> Callable[[Observable[A]], Observable[B]]:
    """Each value mapped to zero or more items, emitted in place. A value the mapper fails
    on is dropped and logged (once per kind of failure), never the stream's end: one bad
    poll must not stop the edges, SoC or refreshes of every later one."""

    def operator(source: Observable[A]) -> Observable[B]:
        def subscribe(observer: ObserverBase[B], scheduler: SchedulerBase | None = None) -> DisposableBase:
            told: set[str] = set()

            def on_next(value: A) -> None:
                try:
                    items = list(mapper(value))
                except Exception as error:
                    kind = f"{getattr(mapper, '__qualname__', mapper)}: {type(error).__name__}"
                    if kind not in told:
                        told.add(kind)
                        logger.opt(exception=error).error("{} failed on one {}; it is skipped", kind,
                                                          type(value).__name__)
                    return
                for item in items:
                    observer.on_next(item)

            return source.subscribe(on_next, observer.on_error, observer.on_completed, scheduler=scheduler)

        return rx.create(subscribe)

    return operator


def merged(*sources: Observable[Any]) -> Observable[Any]:
    """Merge that subscribes every source at once; completes when all have completed."""

    def subscribe(observer: ObserverBase[Any], scheduler: SchedulerBase | None = None) -> DisposableBase:
        remaining = [len(sources)]

        def completed() -> None:
            remaining[0] -= 1
            if remaining[0] == 0:
                observer.on_completed()

        return CompositeDisposable(
            [s.subscribe(observer.on_next, observer.on_error, completed, scheduler=scheduler) for s in sources]
        )

    return rx.create(subscribe)


def seeded(source: Observable[T], seed: T) -> Observable[T]:
    """Emit `seed` synchronously on subscription, then the source. Unlike start_with, which
    schedules its value, the seed is in place before any event already queued for the
    same virtual instant arrives."""

    def subscribe(observer: ObserverBase[T], scheduler: SchedulerBase | None = None) -> DisposableBase:
        observer.on_next(seed)
        return source.subscribe(observer, scheduler=scheduler)

    return rx.create(subscribe)
