"""The planner thread's freed memory goes back to the system after each solve (sinks/heap.py)."""

from __future__ import annotations

import asyncio
import platform
import threading
from pathlib import Path

import pytest

from smartload.planner import Plan, PlannerInput, PlannerSettings
from smartload.sinks import heap, solver
from smartload.sinks.solver import Outcome, ThreadSolver
from tests.planner.builders import car, hourly, problem


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def test_what_a_worker_thread_freed_is_returned_to_the_system() -> None:
    """83 MB of 2 KB blocks (glibc's, not pymalloc's) allocated on a thread, one in 16 kept:
    the holes stay mapped in that thread's heap until the trim."""
    if platform.libc_ver()[0] != "glibc":
        heap.release_freed_memory()  # nothing to trim, and no error for trying
        assert heap._trim() is None
        return
    assert heap._trim() is not None
    kept: list[bytes] = []

    def work() -> None:
        blocks = [bytes(2048) for _ in range(40_000)]
        kept.extend(blocks[::16])

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    before = _rss_mb()
    heap.release_freed_memory()
    assert before - _rss_mb() > 40.0
    assert len(kept) == 2500


async def test_the_worker_trims_after_every_solve_even_one_that_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[str] = []
    monkeypatch.setattr(solver, "release_freed_memory", lambda: trims.append(threading.current_thread().name))

    def fails(_inputs: PlannerInput, _settings: PlannerSettings) -> Plan:
        raise RuntimeError("planner bug")

    loop = asyncio.get_running_loop()
    thread_solver = ThreadSolver(loop, fails)
    outcomes: asyncio.Queue[Outcome] = asyncio.Queue()
    inputs = problem(hourly([0.3, 0.1]), [car("A", wallbox=None, allowed_wallboxes=(1,))])
    thread_solver.submit(inputs, PlannerSettings(), outcomes.put_nowait)
    outcome = await outcomes.get()
    thread_solver.close()
    assert outcome.plan is None and outcome.error is not None
    assert len(trims) == 1 and trims[0].startswith("planner")
