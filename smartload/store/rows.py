"""The shapes of the history rows the store hands out (and the API answers with).

TypedDicts, so mypy checks the readers and the OpenAPI document's schemas are generated
from them (web/schemas.py). Times are RFC 3339 with Z, as everywhere in the API.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, with_config

# pydantic reads TypedDicts from typing_extensions on Python < 3.12.
from typing_extensions import TypedDict

_CLOSED = ConfigDict(extra="forbid")


@with_config(_CLOSED)
class EventRow(TypedDict):
    at: str | None
    kind: str
    vehicle: str | None
    text: str
    data: dict[str, Any]


@with_config(_CLOSED)
class ReadingRow(TypedDict):
    soc_pct: float
    source: str
    measured_at: str | None
    measured_at_known: bool
    received_at: str | None


@with_config(_CLOSED)
class PlanCarRow(TypedDict):
    target_soc_pct: float | None
    final_soc_pct: float | None
    departure: str | None
    shortfall_kwh: float
    energy_kwh: float
    cost_eur: float


@with_config(_CLOSED)
class PlanRow(TypedDict):
    at: str | None
    reason: str
    status: str
    solve_s: float
    cost_eur: float
    slots: int
    horizon_end: str | None
    cars: dict[str, PlanCarRow]


@with_config(_CLOSED)
class WriteRow(TypedDict):
    at: str | None
    method: str
    path: str
    ok: bool
    text: str
