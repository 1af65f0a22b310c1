"""A composed smartload: the graph's streams, the planning sink's decisions as streams, and
the read model and controls that the adapters on top (web, MQTT, notifications, history)
take. compose.py builds it; tests may build one from Subjects to drive an adapter exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from reactivex import Observable
from reactivex.abc import DisposableBase, SchedulerBase

from smartload.events import EventBus
from smartload.graph import Graph
from smartload.live import Controls, LiveView
from smartload.settings import Settings
from smartload.sinks.actuator import Notice, Override, WriteOutcome
from smartload.sinks.planning import PlanMade, PlanningSink
from smartload.sinks.sequencer import Handoff, RequestEnded
from smartload.store.history import HistoryStore
from smartload.vehicles.base import VehicleProvider
from smartload.vehicles.budget import CallBudget


@dataclass(frozen=True)
class System:
    settings: Settings
    scheduler: SchedulerBase
    graph: Graph
    planning: PlanningSink
    bus: EventBus
    live: LiveView
    controls: Controls
    # Each plan acted on, each handoff announced, each request that ended.
    plans: Observable[PlanMade]
    handoffs: Observable[Handoff]
    requests_ended: Observable[RequestEnded]
    # What the actuator noticed about evcc (a person's change, a value evcc did not apply,
    # a new session), and every write: sent with its outcome, or only logged (observe mode).
    notices: Observable[Notice]
    overrides: Observable[Override]
    writes: Observable[WriteOutcome]
    providers: Mapping[str, VehicleProvider]
    # The history the adapters read (None where nothing is kept: replays, what-if runs).
    history: HistoryStore | None
    # The subscriptions that make it run; disposing them stops it.
    subscription: DisposableBase

    @property
    def now(self) -> datetime:
        return self.scheduler.now

    def budgets(self) -> dict[str, CallBudget]:
        """Each vehicle provider's cloud call budget, where the provider keeps one."""
        return {v: b for v, p in self.providers.items() if isinstance(b := getattr(p, "budget", None), CallBudget)}

    def dispose(self) -> None:
        self.subscription.dispose()
