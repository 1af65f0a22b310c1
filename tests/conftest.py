"""Keep process-wide logging as each test found it: the CLI configures loguru and routes
stdlib logging into it, which would otherwise leak into later tests' log captures."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from loguru import logger

from smartload.store.database import Database

# Every property test runs derandomized unless told otherwise, so a failure in CI shows
# again on the next run and on any machine: SMARTLOAD_HYPOTHESIS_PROFILE=long for a long,
# random run (the parser's fuzz test reads it too, with its own counts; the API fuzz test
# has SMARTLOAD_FUZZ_PROFILE=api-fuzz-long).
settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("long", derandomize=False, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("SMARTLOAD_HYPOTHESIS_PROFILE", "ci"))


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


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """The data directory's database (tmp_path/smartload.db), fresh, closed after the test."""
    with Database.open(tmp_path / "smartload.db") as opened:
        yield opened
