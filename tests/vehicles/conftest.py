from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.vehicles.fakecloud import FakeCloud


class FakeClock:
    """The providers' clock: moves only when a test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    # 10:00 local time in Berlin (CEST), a Monday.
    return FakeClock(datetime(2025, 6, 2, 8, 0, tzinfo=UTC))


@pytest.fixture
async def cloud() -> AsyncIterator[FakeCloud]:
    server = await FakeCloud().start()
    try:
        yield server
    finally:
        await server.stop()
