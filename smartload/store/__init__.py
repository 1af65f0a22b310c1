"""The history store: SQLite (WAL) in the data directory beside the request store.

It keeps SoC readings, a summary of every plan, the writes to evcc, the event log and the
energy and cost per quarter-hour, actual and planned, and forgets them after the retention.
datadir.py keeps the directory private and owned by one instance at a time.
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: the request store (smartload.sinks) imports store.datadir, and
# eager imports here would pull in the pipeline (store.recorder imports smartload.app).
_EXPORTS = {"Accrual": "energy", "EnergyMeter": "energy", "DayHistory": "history", "HistoryStore": "history",
            "attach_recorder": "recorder"}

__all__ = ["Accrual", "DayHistory", "EnergyMeter", "HistoryStore", "attach_recorder"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
