from __future__ import annotations

import pytest
from loguru import logger


@pytest.fixture
def sim_log():
    """The simulator's log messages (component "sim") during the test."""
    messages: list[str] = []
    handler = logger.add(lambda m: messages.append(m.record["message"]), level="DEBUG",
                         filter=lambda r: r["extra"].get("component") == "sim")
    yield messages
    logger.remove(handler)
