"""Keep process-wide logging as each test found it: the CLI configures loguru and routes
stdlib logging into it, which would otherwise leak into later tests' log captures."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest
from loguru import logger


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logger.configure(patcher=lambda record: None)  # patcher=None would leave the CLI's redacting patcher
    logger.remove()
    logger.add(sys.stderr, level="DEBUG")
