"""The history store: SQLite (WAL) in the data directory beside the request store.

It keeps SoC readings, a summary of every plan, the writes to evcc, the event log and the
energy and cost per quarter-hour, actual and planned, and forgets them after the retention.
"""

from smartload.store.energy import Accrual, EnergyMeter
from smartload.store.history import DayHistory, HistoryStore
from smartload.store.recorder import attach_recorder

__all__ = ["Accrual", "DayHistory", "EnergyMeter", "HistoryStore", "attach_recorder"]
