"""Writes to evcc through the composition root: one failing write fails alone, and a
clean stop lets the writes on their way be acknowledged before evcc's settings are put
back (review findings on issue 17)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from reactivex import Observable
from reactivex.scheduler import HistoricalScheduler

from smartload.compose import _sent, answered
from smartload.settings import Settings
from smartload.sinks.actuator import WriteOutcome
from smartload.sinks.evcc_keys import Write, write_for
from smartload.sinks.planning import make_planning
from smartload.store.database import Database
from smartload.store.requests import RequestStore

T0 = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
MODE = write_for("lp1.mode", "now", "test")
LIMIT = write_for("lp1.limitsoc", "80", "test")


def test_a_port_that_raises_fails_its_write_and_the_next_write_is_still_sent():
    scheduler = HistoricalScheduler(T0)
    with Database.open(Path(":memory:")) as db:
        planning = make_planning(Settings(), RequestStore(db))
        asked: list[str] = []

        def port(write: Write) -> Observable[str | None]:
            asked.append(write.path)
            if write is MODE:
                raise RuntimeError("client closed")
            return answered(None)

        outcomes: list[WriteOutcome] = []
        errors: list[Exception] = []
        _sent(planning, port, scheduler).subscribe(outcomes.append, errors.append)
        planning.actuator.outbox.on_next(MODE)
        planning.actuator.outbox.on_next(LIMIT)
    assert asked == ["/api/loadpoints/1/mode/now", "/api/loadpoints/1/limitsoc/80"]
    assert outcomes == [WriteOutcome(MODE, T0, True, "RuntimeError: client closed"), WriteOutcome(LIMIT, T0, True)]
    assert errors == []


class SlowEvcc:
    """An evcc whose answer to a write waits until the test lets it through."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.posted: list[str] = []

    async def post(self, path: str) -> None:
        self.posted.append(path)
        await self.release.wait()

    async def delete(self, path: str) -> None:
        raise ValueError("an odd failure, not an EvccError")


async def test_a_clean_stop_waits_for_the_writes_on_their_way_and_an_odd_failure_is_an_outcome():
    from smartload.service import EvccWrites

    evcc = SlowEvcc()
    writes = EvccWrites(evcc)  # type: ignore[arg-type]
    answers: list[str | None] = []
    writes(write_for("batterymode", "normal", "test")).subscribe(answers.append)
    await writes.drain(timeout_s=5)
    assert answers == ["ValueError: an odd failure, not an EvccError"]
    writes(MODE).subscribe(answers.append)
    drained = asyncio.ensure_future(writes.drain(timeout_s=5))
    while not evcc.posted:  # the write's task runs up to evcc's answer
        await asyncio.sleep(0)
    assert evcc.posted == ["/api/loadpoints/1/mode/now"] and not drained.done()
    evcc.release.set()
    await drained
    assert answers == ["ValueError: an odd failure, not an EvccError", None]
