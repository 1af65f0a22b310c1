"""The live service: evcc client, poll source and stores as the ports of the composed
system (compose.py), on the asyncio loop; a clean stop puts back what smartload changed."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import reactivex as rx
from loguru import logger
from reactivex import Observable
from reactivex.abc import SchedulerBase
from reactivex.disposable import CompositeDisposable
from reactivex.scheduler.eventloop import AsyncIOScheduler

from smartload.clock import ScaledAsyncIOScheduler
from smartload.compose import Ports, compose
from smartload.domain import PollError, RawPoll, SiteState
from smartload.evcc.client import EvccClient, EvccError, EvccUnavailable
from smartload.evcc.state import StateParser, parse_state
from smartload.narrate import narrate
from smartload.recording.decision_log import DecisionLogSink
from smartload.settings import Settings
from smartload.sinks.actuator import Write
from smartload.sinks.base import SnapshotSink, guarded
from smartload.sinks.planning import PlanningSink
from smartload.sinks.solver import ThreadSolver
from smartload.store.database import Database
from smartload.store.evcc_restore import EvccRestoreStore
from smartload.store.habits import HabitStore
from smartload.store.history import HistoryStore
from smartload.store.house import HouseProfileStore
from smartload.store.requests import RequestStore
from smartload.streams.polling import parsed, poll_source
from smartload.system import System
from smartload.vehicles.base import VehicleProvider, from_coroutine
from smartload.vehicles.registry import EvccSocBook, build_providers

if TYPE_CHECKING:
    from smartload.plugins import FirstPoll
    from smartload.recording.recorder import Recorder
    from smartload.sim.server import SimServer

# One SQLite file in the data directory holds requests, the house profile, what to
# restore in evcc, and the history.
DB_FILE = "smartload.db"
# At most this long (or evcc's request timeout, if shorter) the web server waits at start
# for evcc's first answer: an evcc that does not answer delays the dashboard by this.
FIRST_POLL_WAIT = timedelta(seconds=2)


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


class EvccWrites:
    """The live write port: each write one request to evcc, as a task on the loop; emits
    None or what went wrong. Keeps its tasks, so a clean stop can let the writes on their
    way finish (and be acknowledged) before it puts evcc's settings back."""

    def __init__(self, client: EvccClient) -> None:
        self._client = client
        self._tasks: set[asyncio.Task[str | None]] = set()

    async def _send(self, w: Write) -> str | None:
        try:
            await (self._client.post(w.path) if w.method == "POST" else self._client.delete(w.path))
        except EvccError as exc:
            return str(exc)
        except Exception as exc:  # a write that fails oddly fails alone; the next is sent
            return f"{type(exc).__name__}: {exc}"
        return None

    def __call__(self, w: Write) -> Observable[str | None]:
        def start(_: SchedulerBase | None) -> Observable[str | None]:
            task = asyncio.ensure_future(self._send(w))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return rx.from_future(task)

        return rx.defer(start)

    async def drain(self, timeout_s: float) -> None:
        """Wait (at most timeout_s) for the writes on their way."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)
            await asyncio.sleep(0)  # the outcomes reach the actuator in the tasks' callbacks


async def _evcc(
    settings: Settings, stack: AsyncExitStack, sim: SimServer | None
) -> tuple[str, AsyncIOScheduler, str | None]:
    """evcc's URL, the scheduler to run on (the embedded simulator's sped-up clock, or the
    wall clock for a real evcc) and the simulator's URL if one runs."""
    loop = asyncio.get_running_loop()
    if settings.evcc.url != "embedded":
        return settings.evcc.url, AsyncIOScheduler(loop), None
    if sim is None:
        from smartload.sim.server import SimServer  # with numpy: only when evcc is the embedded simulator

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
) -> tuple[System, EvccWrites]:
    # Closed last: the planning sink keeps the house profile when it closes.
    db = stack.enter_context(Database.open(settings.data_dir / DB_FILE))
    requests, house, restore_store = RequestStore(db), HouseProfileStore(db), EvccRestoreStore(db)
    history = HistoryStore(db, settings.store.retention_days)
    started: list[VehicleProvider] = []

    def providers(book: EvccSocBook) -> dict[str, VehicleProvider]:
        built = build_providers(settings, book, sim_url, lambda: scheduler.now)
        for provider in dict.fromkeys(built.values()):
            started.append(provider)
            if hasattr(provider, "aclose"):  # closed even if the rest fails to start
                stack.push_async_callback(provider.aclose)
        return built

    solver = ThreadSolver(asyncio.get_running_loop())
    stack.callback(solver.close)
    writes = EvccWrites(client)
    system = compose(settings, Ports(
        scheduler=scheduler, polls=parsed(raw, parse_state), write=writes, requests=requests,
        providers=providers, house=house, habits=HabitStore(db), restore=restore_store, history=history, solver=solver,
        sinks=[DecisionLogSink(), *extra_sinks], observers=[lambda s: narrate(s, url)]))
    # Disposed before the database closes; planning.close keeps the house profile.
    stack.callback(system.planning.close)
    stack.callback(system.dispose)
    for provider in started:
        if hasattr(provider, "start"):
            provider.start()  # MQTT subscribes in the background
    return system, writes


async def _first_poll(raw: Observable[RawPoll], scheduler: SchedulerBase, stop: asyncio.Event,
                      limit: timedelta) -> None:
    """Until the first poll has an answer (evcc's state or its error), a stop, or `limit`.
    Called after the pipeline subscribed: the poll is on its way, and `raw` is shared."""
    answered = asyncio.Event()
    subscription = raw.subscribe(lambda _: answered.set(), lambda _: answered.set(), scheduler=scheduler)
    waits = [asyncio.ensure_future(answered.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waits, timeout=limit.total_seconds(), return_when=asyncio.FIRST_COMPLETED)
    finally:
        subscription.dispose()
        for wait in waits:
            wait.cancel()


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
    on_runtime: Callable[[System, AsyncExitStack, FirstPoll], Awaitable[None]] | None = None,
) -> int:
    """Run until stopped (signal, `stop`, or `duration`). Returns the exit code.

    `sim` is an embedded simulator the caller runs (tests stop and restart it);
    `on_runtime` starts what sits on top of the pipeline (web server, MQTT; tests); its
    third argument waits for evcc's first answer (plugins.FirstPoll), for what may start
    after it."""
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
        recorder: Recorder | None = None
        if record_to is not None:
            from smartload.recording.recorder import Recorder  # with gzip: only when recording

            recorder = Recorder(record_to, evcc.poll_interval.total_seconds(), scheduler.now, evcc_url=url)
            stack.callback(recorder.close)
            subscriptions.add(raw.subscribe(guarded("recorder", recorder.on_poll), scheduler=scheduler))
            logger.info("recording polls of {} to {}", url, record_to)
        system: System | None = None
        if pipeline:
            system, writes = await _start_pipeline(settings, raw, client, scheduler, url, sim_url, stack,
                                                   extra_sinks)
            if on_runtime is not None:
                limit = min(evcc.request_timeout, FIRST_POLL_WAIT)
                await on_runtime(system, stack, partial(_first_poll, raw, scheduler, stop, limit))
        logger.info("polling {} every {:g} s", url, evcc.poll_interval.total_seconds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration.total_seconds() if duration else None)
        logger.info("stopping")
        subscriptions.dispose()
        if system is not None:
            system.planning.stop()  # no plan and no poll writes from now on
            # What is on its way is acknowledged first: restore must know what evcc took.
            await writes.drain(evcc.request_timeout.total_seconds())
            system.dispose()
            await restore(system.planning, client, system.scheduler.now)
    if recorder is not None and recorder.states == 0:
        logger.warning("recorded no evcc state from {} in {} poll(s){}: is evcc running there?", url, recorder.lines,
                       f" (first failure: {recorder.first_error})" if recorder.first_error else "")
        return 1
    return 0
