"""Web API latency while the planner solves: GET /api/health during long solves.

    python benchmarks/health_latency.py [--seconds 40] [--solve-s 2]

The real service runs against the embedded simulator (the shipped settings, speed 60,
the dashboard on a free port of 127.0.0.1). Every plan first solves a hard problem (30
cars at 10 shared wallboxes, 96 slots, mip_rel_gap 0) for --solve-s seconds of HiGHS,
then the site's own. A client on its own thread (a browser) asks /api/health every 20 ms.
Printed: the latency's p50, p95, p99 and max over the requests that overlapped a solve,
with the planner on its worker
thread (as the service runs it), and, as the baseline measured in the same run, solved
inside the event loop (as the service did before). Target: p99 < 100 ms while solving.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import threading
from contextlib import AsyncExitStack, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter

import httpx
import numpy as np

import smartload.service as service
from smartload.logsetup import LogConfig
from smartload.planner import CarInput, Plan, PlannerInput, PlannerSettings, Slot, WallboxInput, make_plan
from smartload.plugins import open_plugins
from smartload.service import run_service
from smartload.settings import Settings, load_settings
from smartload.sinks.solver import InlineSolver, Solver, ThreadSolver
from smartload.system import System

ROOT = Path(__file__).resolve().parents[1]
TARGET_P99_S = 0.100


def hard_problem(seed: int = 7) -> PlannerInput:
    """30 cars on 10 shared wallboxes over 96 quarter-hours at random prices."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, 12, tzinfo=UTC)
    slots = tuple(Slot(start + timedelta(minutes=15 * i), start + timedelta(minutes=15 * (i + 1)),
                       0.2 + 0.1 * rng.random(), 0.08) for i in range(96))
    boxes = tuple(WallboxInput(id=i + 1) for i in range(10))
    cars = tuple(CarInput(name=f"car{i}", capacity_kwh=60.0, soc_pct=float(rng.randint(10, 50)), target_soc_pct=80.0,
                          departure=start + timedelta(hours=rng.randint(12, 23)), wallbox_id=i + 1 if i < 10 else None,
                          allowed_wallboxes=(i % 10 + 1,)) for i in range(30))
    return PlannerInput(start, slots, None, boxes, cars)


class Probe:
    """Solves the hard problem before each plan and notes when each solve ran."""

    def __init__(self, solve_s: float) -> None:
        self.hard = hard_problem()
        self.settings = PlannerSettings(time_limit_s=solve_s, mip_rel_gap=0.0, lp_guided=False)
        self.spans: list[tuple[float, float]] = []

    def solve(self, inputs: PlannerInput, settings: PlannerSettings) -> Plan:
        started = perf_counter()
        try:
            make_plan(self.hard, self.settings)
            return make_plan(inputs, settings)
        finally:
            self.spans.append((started, perf_counter()))


REQUEST_TIMEOUT_S = 10.0


def ask_until(url: str, stop: threading.Event, requests: list[tuple[float, float]]) -> None:
    """A browser polling the API: its own thread and connection, outside the service's loop.
    A request that times out counts with the time it waited."""
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        while not stop.is_set():
            started = perf_counter()
            with suppress(httpx.TimeoutException):
                client.get("/api/health").raise_for_status()
            requests.append((started, perf_counter()))
            stop.wait(0.02)


def during(requests: list[tuple[float, float]], spans: list[tuple[float, float]]) -> list[float]:
    """Latencies of the requests that overlapped a solve."""
    return [end - start for start, end in requests if any(start < b and end > a for a, b in spans)]


async def measure(settings: Settings, seconds: float, probe: Probe, threaded: bool) -> list[float]:
    def solver(loop: asyncio.AbstractEventLoop) -> Solver:
        return ThreadSolver(loop, probe.solve) if threaded else InlineSolver(probe.solve)

    service.ThreadSolver = solver  # type: ignore[assignment,misc]
    requests: list[tuple[float, float]] = []
    stop, asking = asyncio.Event(), threading.Event()

    async def on_runtime(runtime: System, stack: AsyncExitStack) -> None:
        adapters = await open_plugins(runtime, stack)
        assert adapters.web is not None
        client = threading.Thread(target=ask_until, args=(adapters.web.url, asking, requests), daemon=True)
        client.start()
        stack.callback(client.join)
        stack.callback(asking.set)

    async def stopper() -> None:
        await asyncio.sleep(seconds)
        stop.set()

    timer = asyncio.create_task(stopper())
    await run_service(settings, stop=stop, on_runtime=on_runtime)
    await timer
    return during(requests, probe.spans)


def row(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<22} no request while a solve ran"
    ms = np.array(values) * 1000
    p99 = float(np.percentile(ms, 99))
    return (f"{name:<22} {len(values):>5} {np.percentile(ms, 50):8.1f} {np.percentile(ms, 95):8.1f} {p99:8.1f} "
            f"{ms.max():8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="wall-clock seconds per mode (default 40)")
    parser.add_argument("--solve-s", type=float, default=2.0, help="HiGHS time per hard solve (default 2)")
    args = parser.parse_args()
    LogConfig().apply(level="ERROR")
    with tempfile.TemporaryDirectory() as data:
        base = load_settings(ROOT / "settings.yaml")
        settings = base.model_copy(update={
            "data_dir": Path(data), "web": base.web.model_copy(update={"port": 0}),
            "mqtt": base.mqtt.model_copy(update={"host": None})})
        print(f"{args.seconds:g} s per mode, {args.solve_s:g} s of HiGHS per plan; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'GET /api/health':<22} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        results = {}
        for threaded in (True, False):
            probe = Probe(args.solve_s)
            name = "worker thread" if threaded else "in the loop (before)"
            results[threaded] = asyncio.run(measure(settings, args.seconds, probe, threaded))
            print(row(name, results[threaded]) + f"   ({len(probe.spans)} solves)")
    thread_p99 = float(np.percentile(results[True], 99)) if results[True] else float("nan")
    loop_p99 = float(np.percentile(results[False], 99)) if results[False] else float("nan")
    verdict = "met" if thread_p99 < TARGET_P99_S else "MISSED"
    print(f"p99 while solving: {thread_p99 * 1000:.1f} ms on the worker thread against {loop_p99 * 1000:.1f} ms "
          f"in the loop (ratio {loop_p99 / thread_p99:.0f}x); target p99 < {TARGET_P99_S * 1000:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
