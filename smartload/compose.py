"""The composition root: settings and ports in, a running System out.

The live service, a replay and a what-if run differ only in their ports (where polls come
from, the clock, how a write reaches evcc, the stores, the vehicle providers, where plans
are solved); everything between is assembled here, once, in one order:

    ports.polls ─► build_graph ─► snapshots ─► [ports.sinks…, planning sink] ─► actuator
                       ▲                               │            │             │
    planning.replans ──┘     plans, handoffs, ended ◄──┘  notices ◄─┘   outbox ─► ports.write
                                                                                  │
                                             writes (outcomes) ─► actuator.ack ◄──┘
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import reactivex as rx
from loguru import logger
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import DisposableBase, ObserverBase, SchedulerBase
from reactivex.disposable import CompositeDisposable, Disposable

from smartload.domain import Poll, Snapshot
from smartload.events import EventBus
from smartload.graph import Graph, build_graph
from smartload.live import Controls, LiveView
from smartload.settings import Settings
from smartload.sinks.actuator import Override, Write, WriteOutcome
from smartload.sinks.base import SnapshotSink, guarded
from smartload.sinks.planning import PlanningSink, make_planning
from smartload.sinks.restore_book import RestoreStore
from smartload.sinks.solver import Solver
from smartload.store.habits import HabitStore
from smartload.store.history import HistoryStore
from smartload.store.house import HouseProfileStore
from smartload.store.requests import RequestStore
from smartload.streams.sync import merged
from smartload.system import System
from smartload.vehicles.base import VehicleProvider
from smartload.vehicles.registry import EvccSocBook

# Sends one write to evcc; emits once: None when evcc took it, else the error.
WritePort = Callable[[Write], Observable[str | None]]


def answered(error: str | None) -> Observable[str | None]:
    """An answer known at once (an in-process evcc): emitted during subscribe, on no
    scheduler, so the actuator hears it before the poll that caused the write is done."""

    def subscribe(observer: ObserverBase[str | None], _: SchedulerBase | None = None) -> DisposableBase:
        observer.on_next(error)
        observer.on_completed()
        return Disposable()

    return rx.create(subscribe)


@dataclass(frozen=True)
class Ports:
    """What differs between the live service, a replay and a what-if run."""

    scheduler: SchedulerBase
    polls: Observable[Poll]
    write: WritePort
    requests: RequestStore
    # The providers, given the book of the SoC evcc reports (the evcc provider reads it).
    providers: Callable[[EvccSocBook], Mapping[str, VehicleProvider]]
    house: HouseProfileStore | None = None
    habits: HabitStore | None = None
    restore: RestoreStore | None = None
    history: HistoryStore | None = None
    solver: Solver | None = None
    # Ends the clock-driven ticks (a recording's end).
    until: Observable[object] | None = None
    # Snapshot sinks beside the planner (the decision log, a replay's collector).
    sinks: Sequence[SnapshotSink] = ()
    # What watches the system from its first poll, subscribed before the planner so a
    # poll's own events come first (the live service's narration).
    observers: Sequence[Callable[[System], DisposableBase]] = ()


def connect_sinks(snapshots: Observable[Snapshot], sinks: Sequence[SnapshotSink],
                  scheduler: SchedulerBase) -> DisposableBase:
    """Subscribe every sink; each is guarded so one failing sink cannot stop the others."""
    handlers = [guarded(sink.name, sink.on_snapshot) for sink in sinks]

    def fan_out(snapshot: Snapshot) -> None:
        for handle in handlers:
            handle(snapshot)

    return snapshots.subscribe(fan_out, scheduler=scheduler)


def connect_planning(graph: Graph, planning: PlanningSink, scheduler: SchedulerBase) -> DisposableBase:
    """The planner also hears every poll (the actuator compares evcc with the plan; the
    sequencer notices unplugs) and every SoC change (a target reached re-plans at once)."""
    return CompositeDisposable(
        graph.states.subscribe(guarded("planner", planning.on_state), scheduler=scheduler),
        graph.socs.subscribe(guarded("planner", lambda socs: planning.on_socs(scheduler.now, socs)),
                             scheduler=scheduler),
    )


def _sent(planning: PlanningSink, write: WritePort, scheduler: SchedulerBase) -> Observable[WriteOutcome]:
    """Each write the actuator hands out, sent through the port, as its outcome (timed when
    evcc answered). Hot and shared: the actuator hears every outcome exactly once."""

    def send(w: Write) -> Observable[WriteOutcome]:
        def outcome(error: str | None) -> WriteOutcome:
            return WriteOutcome(w, scheduler.now, True, error)

        def port(_: SchedulerBase | None) -> Observable[str | None]:
            return write(w)

        def failed(error: Exception, _: Observable[str | None]) -> Observable[str | None]:
            # A port that raises fails this write, never the stream: the next write is sent.
            return answered(f"{type(error).__name__}: {error}")

        return rx.defer(port).pipe(ops.catch(failed), ops.map(outcome))

    return planning.actuator.outbox.pipe(ops.flat_map(send), ops.share())


def _lost(error: Exception) -> None:
    logger.opt(exception=error).error("evcc writes stopped: {}", error)


def compose(settings: Settings, ports: Ports) -> System:
    """Assemble and start: every subscription is made here, in the order the service has
    always used (write outcomes, the SoC book, the observers, the read model, the
    planner's inputs, then the sinks)."""
    scheduler = ports.scheduler
    book, bus = EvccSocBook(), EventBus()
    providers = ports.providers(book)
    planning = make_planning(settings, ports.requests, house_store=ports.house, restore_store=ports.restore,
                             solver=ports.solver, habit_store=ports.habits)
    controls = Controls(settings, planning, scheduler, bus)
    graph = build_graph(ports.polls, settings, providers, until=ports.until, events=planning.replans,
                        refresh_requests=controls.refresh_requests, manual_socs=controls.manual_socs)
    actuator = planning.actuator
    sent = _sent(planning, ports.write, scheduler)
    live = LiveView(settings)
    subscription = CompositeDisposable()
    notices = actuator.notices
    system = System(
        settings=settings, scheduler=scheduler, graph=graph, planning=planning, bus=bus, live=live,
        controls=controls, plans=planning.planned, handoffs=planning.handed_off,
        requests_ended=planning.request_ends, notices=notices,
        # reactivex's filter keeps its input type: an isinstance filter cannot narrow a Notice.
        overrides=notices.pipe(ops.filter(lambda n: isinstance(n, Override))),  # type: ignore[arg-type]
        writes=merged(sent, actuator.observed), providers=providers, history=ports.history,
        subscription=subscription,
    )
    try:
        subscription.add(sent.subscribe(guarded("actuator", actuator.ack), _lost))
        subscription.add(graph.evcc_socs.subscribe(book.record, scheduler=scheduler))
        for observe in ports.observers:
            subscription.add(observe(system))
        subscription.add(live.attach(graph, planning.planned, bus, scheduler))
        subscription.add(connect_planning(graph, planning, scheduler))
        subscription.add(connect_sinks(graph.snapshots, [*ports.sinks, planning], scheduler))
    except BaseException:
        subscription.dispose()  # half a system must not keep polling
        raise
    return system
