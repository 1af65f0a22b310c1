"""smartload on the simulator's real_site: a heat pump at loadpoint 2, a car on evcc's
offline template, a battery evcc cannot control, and plug swaps at the shared garage
wallbox that no poll sees (the plug moves within one poll). Over a day of real prices:
no swap is taken for a person's change, no write is repeated in a loop, and the wallbox's
settings change at most 60 times a day."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from smartload.settings import Settings
from smartload.whatif.runner import simulate
from smartload.whatif.strategies import smartload as smartload_strategy
from smartload.whatif.strategies.base import Outcome, RunContext
from tests.whatif.conftest import config

PATHS: list[str] = []


def spying(ctx: RunContext) -> Outcome:
    """smartload itself, with every write to the simulated evcc noted."""
    write = ctx.port.write

    def noted(method: str, path: str) -> str | None:
        PATHS.append(f"{method} {path}")
        return write(method, path)

    ctx.port.write = noted  # type: ignore[method-assign]
    return smartload_strategy.run(ctx)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    # Tuesday: the offline honda and both other cars come home and share the garage.
    PATHS.clear()
    return simulate(config(strategy="smartload", scenario="real_site", days=1, start=date(2024, 1, 16)), Settings(),
                    strategy=spying)


def test_swaps_between_two_polls_are_no_overrides(report: dict[str, Any]) -> None:
    details = report["strategy_details"]
    assert details["handoffs_followed"] >= 1  # the plug did move between cars
    assert report["overrides"] == []


def test_the_uncontrollable_battery_is_left_to_evcc_and_nothing_is_refused(report: dict[str, Any]) -> None:
    assert report["evcc_writes_refused"] == 0
    assert report["evcc_not_applied"] == []
    kinds = report["evcc_writes_by_kind"]
    assert kinds["keepalive"] == 0  # no battery mode is held, so none is kept alive
    [(day, counts)] = report["evcc_writes_by_day"].items()
    assert day == "2024-01-16" and 0 < counts["change"] <= 60


def test_the_heat_pump_is_never_given_a_car_nor_any_setting(report: dict[str, Any]) -> None:
    assert report["errors"] == []
    assert PATHS and all(path.startswith("POST /api/loadpoints/1/") for path in PATHS)
    assert report["evcc_writes"] == len(PATHS) == sum(report["evcc_writes_by_kind"].values())
