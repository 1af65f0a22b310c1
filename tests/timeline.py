"""A cold observable that emits values at absolute virtual times (test helper)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import reactivex as rx
from reactivex import Observable
from reactivex.abc import ObserverBase, SchedulerBase
from reactivex.disposable import CompositeDisposable

T = TypeVar("T")


def timeline(rows: Sequence[tuple[datetime, T]], complete_at: datetime | None = None) -> Observable[T]:
    def subscribe(observer: ObserverBase[T], scheduler: SchedulerBase | None = None) -> CompositeDisposable:
        assert scheduler is not None
        disposables = CompositeDisposable()
        for when, value in rows:
            disposables.add(scheduler.schedule_absolute(when, lambda *_, v=value: observer.on_next(v)))
        end = complete_at or max((when for when, _ in rows), default=scheduler.now)
        disposables.add(scheduler.schedule_absolute(end, lambda *_: observer.on_completed()))
        return disposables

    return rx.create(subscribe)  # type: ignore[arg-type]


def subscribe_all(observable: Observable[Any], scheduler: SchedulerBase) -> list[Any]:
    out: list[Any] = []
    observable.subscribe(out.append, scheduler=scheduler)
    return out
