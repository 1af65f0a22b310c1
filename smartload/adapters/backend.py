"""The one object the adapters read from and act through: a running service's parts.

The service hands over its Runtime; tests build a Backend from their own parts (a graph of
Subjects, a planning sink over a temporary request store) to drive the adapters exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from reactivex.abc import SchedulerBase

from smartload.app import Graph
from smartload.events import EventBus
from smartload.live import Controls, LiveView
from smartload.settings import Settings
from smartload.sinks.planning import PlanningSink
from smartload.store.history import HistoryStore
from smartload.vehicles.budget import CallBudget

if TYPE_CHECKING:
    from smartload.service import Runtime


@dataclass
class Backend:
    settings: Settings
    scheduler: SchedulerBase
    graph: Graph
    planning: PlanningSink
    bus: EventBus
    live: LiveView
    controls: Controls
    history: HistoryStore | None = None
    # Each vehicle provider's cloud call budget, where the provider keeps one.
    budgets: Callable[[], Mapping[str, CallBudget]] = field(default=lambda: {})

    @property
    def now(self) -> datetime:
        return self.scheduler.now

    @classmethod
    def from_runtime(cls, runtime: Runtime, history: HistoryStore | None) -> Backend:
        providers = getattr(runtime, "providers", None) or {}

        def budgets() -> dict[str, CallBudget]:
            return {v: p.budget for v, p in providers.items() if isinstance(getattr(p, "budget", None), CallBudget)}

        return cls(runtime.settings, runtime.scheduler, runtime.graph, runtime.planning, runtime.bus, runtime.live,
                   runtime.controls, history, budgets)
