"""The synchronous operators: a value the mapper fails on is skipped, never the stream's end."""

from __future__ import annotations

import reactivex as rx
from loguru import logger

from smartload.streams.sync import expand


def test_a_value_the_mapper_fails_on_is_skipped_and_told_once():
    def halves(value: int) -> list[float]:
        if value == 0:
            raise ZeroDivisionError("no")
        return [1 / value, 2 / value]

    seen: list[float] = []
    done: list[bool] = []
    errors: list[str] = []
    handler = logger.add(lambda m: errors.append(m.record["message"]), level="ERROR")
    try:
        rx.from_iterable([1, 0, 2, 0, 4]).pipe(expand(halves)).subscribe(
            seen.append, on_error=lambda e: errors.append(f"stream ended: {e}"), on_completed=lambda: done.append(True))
    finally:
        logger.remove(handler)
    assert seen == [1.0, 2.0, 0.5, 1.0, 0.25, 0.5]
    assert done == [True]
    where = "test_a_value_the_mapper_fails_on_is_skipped_and_told_once.<locals>.halves"
    assert errors == [f"{where}: ZeroDivisionError failed on one int; it is skipped"]
