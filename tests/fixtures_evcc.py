"""evcc test data: the fixture bodies (tests/data/evcc, see SOURCES.md there) and builders."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data") / "evcc"

STATE_0207 = "api-state_0.207.5_demo.json"
STATE_0206 = "api-state_0.206_result-wrapper_DERIVED.json"
STATE_0132 = "api-state_0.132_gridPower_DERIVED.json"
STATE_0315 = "api-state_0.315_battery-object_compact-forecast_DERIVED.json"
WS_WELCOME = "ws-welcome_0.315.0_excerpt.json"
WS_FORECAST_GRID = "ws-forecast-grid_0.315_excerpt.json"
TARIFF_GRID = "api-tariff-grid_0.207.5_demo_DERIVED.json"
TARIFF_GRID_0202 = "api-tariff-grid_0.202_result-price_DERIVED.json"

AT = datetime(2025, 9, 8, 10, 0, tzinfo=UTC)


def body(name: str) -> bytes:
    return (DATA / name).read_bytes()


def load(name: str) -> Any:
    return json.loads(body(name))


def demo_state() -> dict[str, Any]:
    """A fresh, mutable copy of the 0.207.5 demo state."""
    return copy.deepcopy(_DEMO)


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def recording_line(state: Any, t: str = "2025-09-08T10:00:00Z") -> bytes:
    return compact({"t": t, "state": state})


_DEMO = load(STATE_0207)
