"""Service beside cost: the departures a strategy misses that another serves fully.

A cheap period prices missed energy low (report.py: at the period's highest price), so a
strategy can save a little while missing departures that plain charging would have
served. These figures say it outright: per baseline report of the same run (same
stays, same ids), the departures this one misses that the baseline serves fully, and the
energy those drivers left without.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartload.whatif.metrics import MISS_TOLERANCE_KWH

# The strategy a fleet must never be worse served than, and the bound it compares to.
BASELINES = ("uncontrolled", "optimal")


def served_fully(report: Mapping[str, Any]) -> set[str]:
    """Ids of the stays that departed within the miss tolerance of their target."""
    return {s["id"] for s in report["stays"] if s["departure"] and s["shortfall_kwh"] <= MISS_TOLERANCE_KWH}


def missed_served_by(report: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    """The departures `report` misses that `other` serves fully, in order of arrival."""
    mine = served_fully(report)
    theirs = served_fully(other)
    return [s["id"] for s in report["stays"] if s["id"] in theirs and s["id"] not in mine]


def service(report: Mapping[str, Any], others: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The report's own misses and missed kWh, and per other strategy (by its name) the
    departures it misses that the other serves fully, with their missed kWh."""
    stays = {s["id"]: s for s in report["stays"]}
    result: dict[str, Any] = {
        "departures_missed": report["deadline_misses"],
        "missed_kwh": report["shortfall_kwh"],
    }
    for name, other in sorted(others.items()):
        if {s["id"] for s in other["stays"]} != set(stays):
            raise ValueError(f"the {name} report is of another run (its stays differ)")
        ids = missed_served_by(report, other)
        result[f"missed_that_{name}_serves_fully"] = {
            "count": len(ids), "missed_kwh": round(sum(stays[i]["shortfall_kwh"] for i in ids), 3), "ids": ids,
        }
    return result
