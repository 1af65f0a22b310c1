"""The live service: evcc client, poll source, graph, sinks, on the asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from loguru import logger
from reactivex import Observable
from reactivex.disposable import CompositeDisposable
from reactivex.scheduler.eventloop import AsyncIOScheduler
from reactivex.subject import Subject

from smartload.app import Graph, build_graph, connect_planning, connect_sinks
from smartload.clock import ScaledAsyncIOScheduler
from smartload.domain import PollError, RawPoll, SiteState
from smartload.evcc.client import EvccClient, EvccError, EvccUnavailable
from smartload.evcc.state import StateParser, parse_state
from smartload.events import EventBus
from smartload.live import Controls, LiveView
from smartload.narrate import narrate, tell, write_event
from smartload.recording.decision_log import DecisionLogSink
from smartload.recording.recorder import Recorder
from smartload.settings import Settings
from smartload.sim.server import SimServer
from smartload.sinks.actuator import Write
from smartload.sinks.base import SnapshotSink, guarded
from smartload.sinks.planning import PlanningSink, make_planning
from smartload.sinks.solver import ThreadSolver
from smartload.store.evcc_restore import EvccRestoreStore
from smartload.store.house import HouseProfileStore
from smartload.store.requests import RequestStore
from smartload.streams.polling import parsed, poll_source
from smartload.streams.ticks import Trigger
from smartload.vehicles.base import VehicleProvider, from_coroutine
from smartload.vehicles.registry import EvccSocBook, build_providers


def fetch_raw(client: EvccClient, scheduler: AsyncIOScheduler) -> Observable[RawPoll]:
    """One GET /api/state per subscription; every failure becomes a RawPoll error."""

    async def get() -> RawPoll:
        try:
            body = await client.get_state()
        except EvccUnavailable as exc:
            return RawPoll(scheduler.now, error=PollError(scheduler.now, exc.kind, exc.message))
        except Exception as exc:  # anything else must not end the stream either
            return RawPoll(scheduler.now, error=PollError(scheduler.now, "http", f"{type(exc).__name__}: {exc}"))
        return RawPoll(scheduler.now, body=body)

    return from_coroutine(get)


class EvccWriter:
    """Sends the actuator's writes to evcc as tasks on the loop and reports each outcome."""

    def __init__(self, client: EvccClient, scheduler: AsyncIOScheduler, bus: EventBus) -> None:
        self._client = client
        self._scheduler = scheduler
        self._bus = bus
        self._tasks: set[asyncio.Task[None]] = set()
        self.ack: Callable[[Write, datetime, str | None], None] = lambda write, at, error: None

    def send(self, write: Write) -> None:
        task = asyncio.get_running_loop().create_task(self._write(write))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, write: Write) -> None:
        error: str | None = None
        try:
            if write.method == "POST":
                await self._client.post(write.path)
            else:
                await self._client.delete(write.path)
        except EvccError as exc:
            error = str(exc)
        if write.kind == "keepalive" and error is None:
            # evcc's external battery mode lasts 60 s: re-sending it changes nothing a
            # person follows, so it is no event and no INFO line.
            logger.debug("evcc keep-alive {} {}", write.method, write.path)
        else:
            tell(self._bus, write_event(write, self._scheduler.now, error))
        self.ack(write, self._scheduler.now, error)


@dataclass
class Runtime:
    """Everything a running service consists of, for the adapters on top (web, MQTT)."""

    settings: Settings
    url: str
    scheduler: AsyncIOScheduler
    graph: Graph
    planning: PlanningSink
    bus: EventBus
    live: LiveView
    controls: Controls
    client: EvccClient
    providers: Mapping[str, VehicleProvider] = field(default_factory=dict)


async def _evcc(
    settings: Settings, stack: AsyncExitStack, sim: SimServer | None
) -> tuple[str, AsyncIOScheduler, str | None]:
    """evcc's URL, the scheduler to run on (the embedded simulator's sped-up clock, or the
    wall clock for a real evcc) and the simulator's URL if one runs."""
    loop = asyncio.get_running_loop()
    if settings.evcc.url != "embedded":
        return settings.evcc.url, AsyncIOScheduler(loop), None
    if sim is None:
        sim = await stack.enter_async_context(SimServer(settings.sim))
    logger.info("smartload runs on the simulator's clock, {:g}x faster than real time", sim.settings.speed)
    return sim.url, ScaledAsyncIOScheduler(loop, sim.now, sim.settings.speed), sim.url


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread / Windows
            loop.add_signal_handler(sig, stop.set)


async def _start_pipeline(
    settings: Settings, raw: Observable[RawPoll], client: EvccClient, scheduler: AsyncIOScheduler,
    url: str, sim_url: str | None, stack: AsyncExitStack, extra_sinks: Sequence[SnapshotSink],
) -> tuple[Runtime, CompositeDisposable]:
    book, bus = EvccSocBook(), EventBus()
    replans: Subject[Trigger] = Subject()
    providers = build_providers(settings, book, sim_url, lambda: scheduler.now)
    for provider in providers.values():
        if hasattr(provider, "start"):
            provider.start()  # MQTT subscribes in the background
        if hasattr(provider, "aclose"):
            stack.push_async_callback(provider.aclose)
    store = RequestStore(settings.data_dir / "smartload.db")
    stack.callback(store.close)
    house_store = HouseProfileStore(settings.data_dir / "smartload.db")
    stack.callback(house_store.close)
    restore_store = EvccRestoreStore(settings.data_dir / "smartload.db")
    stack.callback(restore_store.close)
    writer = EvccWriter(client, scheduler, bus)
    planning = make_planning(settings, store, writer.send, lambda at, why: replans.on_next((at, why)),
                             house_store=house_store, restore_store=restore_store,
                             solver=ThreadSolver(asyncio.get_running_loop()))
    stack.callback(planning.close)  # before the store closes: keeps the house profile
    writer.ack = planning.actuator.ack
    controls = Controls(settings, planning, scheduler, bus)
    graph = build_graph(parsed(raw, parse_state), settings, providers, events=replans,
                        refresh_requests=controls.refresh_requests, manual_socs=controls.manual_socs)
    live = LiveView(settings)
    subscriptions = CompositeDisposable(
        graph.evcc_socs.subscribe(book.record, scheduler=scheduler),
        narrate(graph, planning, bus, url, scheduler, settings.site.tz),
        live.attach(graph, planning, bus, scheduler),
        connect_planning(graph, planning, scheduler),
        connect_sinks(graph, [DecisionLogSink(), planning, *extra_sinks], scheduler),
    )
    return Runtime(settings, url, scheduler, graph, planning, bus, live, controls, client, providers), subscriptions


async def restore(planning: PlanningSink, client: EvccClient, now: datetime) -> None:
    """Put back every evcc setting smartload changed (a clean shutdown only), from evcc's
    state as it is now; what fails stays in the data directory for the next stop."""
    try:
        state = StateParser().parse_state(await client.get_state(), now)
    except EvccError as exc:
        logger.warning("could not restore what smartload changed in evcc: {}", exc)
        return
    if not isinstance(state, SiteState):
        logger.warning("could not restore what smartload changed in evcc: {}", state.message)
        return
    failed = set()
    for write in planning.actuator.restore_writes(state):
        try:
            await (client.post(write.path) if write.method == "POST" else client.delete(write.path))
            logger.info("restored: {} {}", write.method, write.path)
        except EvccError as exc:
            failed.add(write.key)
            logger.warning("could not restore {} {}: {}", write.method, write.path, exc)
    planning.actuator.restored(failed)


async def run_service(
    settings: Settings,
    *,
    record_to: Path | None = None,
    duration: timedelta | None = None,
    pipeline: bool = True,
    extra_sinks: Sequence[SnapshotSink] = (),
    stop: asyncio.Event | None = None,
    sim: SimServer | None = None,
    on_runtime: Callable[[Runtime, AsyncExitStack], Awaitable[None]] | None = None,
) -> int:
    """Run until stopped (signal, `stop`, or `duration`). Returns the exit code.

    `sim` is an embedded simulator the caller runs (tests stop and restart it);
    `on_runtime` starts what sits on top of the pipeline (web server, MQTT; tests)."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    async with AsyncExitStack() as stack:
        url, scheduler, sim_url = await _evcc(settings, stack, sim)
        evcc = settings.evcc
        client = await stack.enter_async_context(
            EvccClient(
                url,
                timeout_s=evcc.request_timeout.total_seconds(),
                password=evcc.password.get_secret_value() if evcc.password else None,
                api_key=evcc.api_key.get_secret_value() if evcc.api_key else None,
            )
        )
        raw = poll_source(lambda: fetch_raw(client, scheduler), evcc.poll_interval, evcc.outage_backoff_max)
        subscriptions = CompositeDisposable()
        stack.callback(subscriptions.dispose)
        if record_to is not None:
            recorder = Recorder(record_to, evcc.poll_interval.total_seconds(), scheduler.now, evcc_url=url)
            stack.callback(recorder.close)
            subscriptions.add(raw.subscribe(guarded("recorder", recorder.on_poll), scheduler=scheduler))
            logger.info("recording polls of {} to {}", url, record_to)
        runtime: Runtime | None = None
        if pipeline:
            runtime, wired = await _start_pipeline(settings, raw, client, scheduler, url, sim_url, stack, extra_sinks)
            subscriptions.add(wired)
            if on_runtime is not None:
                await on_runtime(runtime, stack)
        logger.info("polling {} every {:g} s", url, evcc.poll_interval.total_seconds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration.total_seconds() if duration else None)
        logger.info("stopping")
        subscriptions.dispose()
        if runtime is not None:
            runtime.planning.stop()  # a solve still running must not write after the restore
            await restore(runtime.planning, client, runtime.scheduler.now)
    return 0
