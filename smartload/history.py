"""The history plugin: feeds the system's history store (store/history.py) with new SoC
readings, every plan, every event (writes to evcc among them) and the energy of every
poll interval; purges once an hour (service time)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from reactivex.abc import DisposableBase
from reactivex.disposable import CompositeDisposable, Disposable

from smartload.domain import SiteState, Snapshot, SocReading, Tariffs
from smartload.sinks.base import guarded
from smartload.store.energy import EnergyMeter
from smartload.store.history import HistoryStore
from smartload.streams.soc import SocTable
from smartload.system import System

if TYPE_CHECKING:
    from smartload.planner import Plan

PURGE_EVERY = timedelta(hours=1)


class Recorder:
    def __init__(self, store: HistoryStore, meter: EnergyMeter, plan: Callable[[], Plan | None],
                 tariffs: Callable[[], Tariffs]) -> None:
        self._store = store
        self._meter = meter
        self._plan = plan
        self._tariffs = tariffs
        self._seen: dict[str, SocReading] = {}
        self._purged_at: datetime | None = None

    def on_socs(self, socs: SocTable) -> None:
        new = [r for v, r in socs.items() if self._seen.get(v) != r]
        self._seen.update({r.vehicle: r for r in new})
        if new:
            self._store.add_readings(new)

    def on_state(self, state: SiteState) -> None:
        self._store.add_energy(self._meter.observe(state, self._plan(), self._tariffs()))

    def on_plan(self, plan: Plan, snapshot: Snapshot) -> None:
        self._store.add_plan(snapshot.at, snapshot.reason, plan)
        if self._purged_at is None or snapshot.at - self._purged_at >= PURGE_EVERY:
            self._purged_at = snapshot.at
            self._store.purge(snapshot.at)


def attach_history(system: System) -> DisposableBase:
    """Record into the system's history store (nothing when it keeps none)."""
    store = system.history
    if store is None:
        return Disposable()
    planning, live, scheduler, graph = system.planning, system.live, system.scheduler, system.graph
    recorder = Recorder(store, EnergyMeter(system.settings.vehicles_by_evcc_name()), lambda: planning.plan,
                        lambda: live.tariffs)
    return CompositeDisposable(
        system.plans.subscribe(guarded("history", lambda made: recorder.on_plan(made.plan, made.snapshot))),
        graph.socs.subscribe(guarded("history", recorder.on_socs), scheduler=scheduler),
        graph.states.subscribe(guarded("history", recorder.on_state), scheduler=scheduler),
        system.bus.stream.subscribe(guarded("history", store.add_event), scheduler=scheduler),
    )
