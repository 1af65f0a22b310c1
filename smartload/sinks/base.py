"""The sink interface the planner and every other consumer of snapshots implement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

from loguru import logger

from smartload.domain import Snapshot

T = TypeVar("T")


@runtime_checkable
class SnapshotSink(Protocol):
    """Receives one Snapshot per decision trigger. Must not block the event loop for long:
    solving runs on the solver (sinks/solver.py), and writes to evcc leave on the
    actuator's outbox for the composition root to send (compose.py)."""

    name: str

    def on_snapshot(self, snapshot: Snapshot) -> None: ...

    def close(self) -> None: ...


def guarded(name: str, handler: Callable[[T], None]) -> Callable[[T], None]:
    """Wrap a subscriber so its exception is logged instead of silently stopping the
    upstream interval (an on_next that raises on asyncio ends the timer, §1.6.3)."""

    def call(value: T) -> None:
        try:
            handler(value)
        except Exception:
            logger.exception("sink {} failed on {}", name, type(value).__name__)

    return call
