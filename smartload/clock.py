"""A live scheduler whose clock is another clock sped up: the embedded simulator's.

Against the embedded simulator at speed 60, a 10-second poll interval and 15-minute
ticks are simulated time; this scheduler divides every wait by the speed and reports the
simulator's time as `now`, so the unchanged pipeline runs accelerated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from reactivex import typing
from reactivex.abc import DisposableBase
from reactivex.scheduler.eventloop import AsyncIOScheduler


class ScaledAsyncIOScheduler(AsyncIOScheduler):
    def __init__(self, loop: asyncio.AbstractEventLoop, clock: Callable[[], datetime], speed: float) -> None:
        super().__init__(loop)
        self._clock = clock
        self._speed = speed

    @property
    def now(self) -> datetime:
        return self._clock()

    @property
    def speed(self) -> float:
        """Simulated seconds per wall-clock second."""
        return self._speed

    def schedule_relative(
        self, duetime: typing.RelativeTime, action: typing.ScheduledAction[Any], state: Any = None
    ) -> DisposableBase:
        return super().schedule_relative(self.to_seconds(duetime) / self._speed, action, state=state)
