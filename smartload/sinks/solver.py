"""Where the planner runs: in place (replays and what-ifs, deterministic in virtual time)
or on a worker thread (the live service), and how one bad car is kept out of a plan.

The live service's asyncio loop also serves polls, the web API, SSE and MQTT; a 2 s solve
inside it would freeze them all. HiGHS releases the GIL while it solves, so one worker
thread keeps the loop answering. One solve at a time: a snapshot that arrives meanwhile
waits and a newer one replaces it (the newest snapshot wins); the plan in progress is
still applied when it is done, since it is newer than the plan in force.

A car whose input makes the planner raise (a value no check foresaw) is found by planning
each car alone, left out with its reason, and the others are planned without it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from time import perf_counter
from typing import TYPE_CHECKING, Protocol

from loguru import logger

from smartload.sinks.heap import release_freed_memory

if TYPE_CHECKING:
    from smartload.planner import Plan, PlannerInput, PlannerSettings

SolveFn = Callable[["PlannerInput", "PlannerSettings"], "Plan"]
# Time each car gets alone while the culprit of a failed plan is sought.
_PROBE_TIME_S = 0.2


@dataclass(frozen=True, slots=True)
class Outcome:
    """A plan (None if even the plan without cars failed), and the cars left out with why."""

    plan: Plan | None
    dropped: tuple[tuple[str, str], ...] = ()
    error: str | None = None


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def contained(solve: SolveFn, inputs: PlannerInput, settings: PlannerSettings,
              probe_solve: SolveFn | None = None) -> Outcome:
    """Plan; if the planner raises, plan without each car whose plan alone raises.
    probe_solve plans those cars alone (default: solve); a warm planner's must be cold, so
    that no one-car probe becomes the start of the next plan."""
    try:
        return Outcome(solve(inputs, settings))
    except Exception as exc:  # a planner bug or an input no check caught: keep planning the rest
        first = _why(exc)
    probe = replace(settings, time_limit_s=min(settings.time_limit_s, _PROBE_TIME_S))
    dropped = []
    for car in inputs.cars:
        try:
            (probe_solve or solve)(replace(inputs, cars=(car,)), probe)
        except Exception as exc:
            dropped.append((car.name, _why(exc)))
    bad = {name for name, _ in dropped}
    try:
        return Outcome(solve(replace(inputs, cars=tuple(c for c in inputs.cars if c.name not in bad)), settings),
                       tuple(dropped))
    except Exception as exc:
        return Outcome(None, tuple(dropped), f"{first}; without the cars that fail alone: {_why(exc)}")


def make_plan(inputs: PlannerInput, settings: PlannerSettings) -> Plan:
    """The planner's make_plan, imported (and HiGHS with it) at the first plan: the
    service polls evcc before it has loaded the planner."""
    from smartload.planner import make_plan as solve

    return solve(inputs, settings)


WarmSolveFn = Callable[["PlannerInput", "PlannerSettings", "Plan | None"], "Plan"]


def _planner_make_plan(inputs: PlannerInput, settings: PlannerSettings, previous: Plan | None) -> Plan:
    from smartload.planner import make_plan as solve

    return solve(inputs, settings, previous)


class WarmPlanner:
    """make_plan with the last plan as the start of the next (planner/warm.py): a re-plan
    is never worse than the plan in force carried over, which matters where a solve runs
    out of time. The live service's; replays and what-ifs plan cold (InlineSolver), so the
    same inputs always give the same plan there. A plan that fails from the warm start is
    made again cold, and the start forgotten: a bad start must not stop every later plan."""

    def __init__(self, solve: WarmSolveFn = _planner_make_plan) -> None:
        self._solve = solve
        self._last: Plan | None = None

    def __call__(self, inputs: PlannerInput, settings: PlannerSettings) -> Plan:
        previous, self._last = self._last, None
        if previous is None:
            plan = self._solve(inputs, settings, None)
        else:
            try:
                plan = self._solve(inputs, settings, previous)
            except Exception as exc:
                logger.warning("planning from the plan in force failed ({}); planning afresh", _why(exc))
                plan = self._solve(inputs, settings, None)
        self._last = plan
        return plan


Done = Callable[[Outcome], None]


class Solver(Protocol):
    def submit(self, inputs: PlannerInput, settings: PlannerSettings, done: Done) -> None: ...

    @property
    def busy_s(self) -> float | None: ...

    def close(self) -> None: ...


@dataclass
class InlineSolver:
    """Solves at once, in the caller's thread: replays and what-ifs stay deterministic."""

    solve: SolveFn = make_plan

    @property
    def busy_s(self) -> float | None:
        return None  # never busy between two calls

    def submit(self, inputs: PlannerInput, settings: PlannerSettings, done: Done) -> None:
        done(contained(self.solve, inputs, settings))

    def close(self) -> None:
        return None


def _contained_then_trim(solve: SolveFn, inputs: PlannerInput, settings: PlannerSettings,
                         probe_solve: SolveFn | None) -> Outcome:
    try:
        return contained(solve, inputs, settings, probe_solve)
    finally:
        release_freed_memory()


class ThreadSolver:
    """Solves on one worker thread; `done` runs on the event loop that submitted."""

    def __init__(self, loop: asyncio.AbstractEventLoop, solve: SolveFn | None = None) -> None:
        self._loop = loop
        self._solve = solve if solve is not None else WarmPlanner()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planner")
        self._lock = threading.Lock()
        self._running: tuple[float, float] | None = None  # (started, deadline_s) of the solve in progress
        self._pending: tuple[PlannerInput, PlannerSettings, Done] | None = None
        self._overrun_told = False
        self._closed = False
        self.solves = 0
        self.superseded = 0  # snapshots replaced by a newer one while the worker was busy

    @property
    def busy_s(self) -> float | None:
        """How long the solve in progress has been running (None: idle)."""
        running = self._running
        return None if running is None else perf_counter() - running[0]

    def submit(self, inputs: PlannerInput, settings: PlannerSettings, done: Done) -> None:
        if self._running is not None:
            if self._pending is not None:
                self.superseded += 1
            self._pending = (inputs, settings, done)
            self._warn_if_overrun()
            return
        self._start(inputs, settings, done)

    def _start(self, inputs: PlannerInput, settings: PlannerSettings, done: Done) -> None:
        self._running = (perf_counter(), settings.time_limit_s)
        probe = make_plan if isinstance(self._solve, WarmPlanner) else None
        future = self._executor.submit(_contained_then_trim, self._solve, inputs, settings, probe)
        future.add_done_callback(lambda f: self._loop.call_soon_threadsafe(self._finished, f, done))

    def _finished(self, future: Future[Outcome], done: Done) -> None:
        self._running = None
        if self._closed:
            return  # stopped meanwhile: this plan must not act, nor another start
        self.solves += 1
        self._overrun_told = False
        pending, self._pending = self._pending, None
        if pending is not None:
            # A newer snapshot waited: its plan replaces this one within one solve; this
            # one still stands meanwhile (it is newer than the plan in force).
            self._start(*pending)
        try:
            outcome = future.result()
        except Exception as exc:  # contained() catches the planner's; this is the executor's
            outcome = Outcome(None, error=_why(exc))
        try:
            done(outcome)
        except Exception:  # on the loop, outside any sink's guard: one failure must not stop plans
            logger.exception("acting on a plan failed")

    def _warn_if_overrun(self) -> None:
        running = self._running
        if running is None or self._overrun_told:
            return
        elapsed, limit = perf_counter() - running[0], running[1]
        if elapsed > 2 * limit + 1.0:
            self._overrun_told = True
            logger.warning("the planner has been solving for {:.1f} s (time limit {:g} s); newer snapshots wait",
                           elapsed, limit)

    def close(self) -> None:
        self._closed = True
        self._pending = None
        self._executor.shutdown(wait=False, cancel_futures=True)
