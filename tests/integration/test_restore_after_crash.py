"""What smartload changed in evcc is put back at the next clean stop, also after a kill -9:
the simulator runs as its own process (evcc outlives smartload), smartload is killed with
SIGKILL after its first writes, started again and stopped cleanly."""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Against an evcc of its own smartload runs on the wall clock, so the simulator does too
# (speed 1, from now); zoe is plugged in from the start and identified at once.
SCENARIO = """
title: restore after a crash
timezone: Europe/Berlin
battery: {capacity_kwh: 10, soc_pct: 50}
loadpoints:
  - {title: Garage, phases: 3, min_current_a: 6, max_current_a: 16, mode: pv}
vehicles:
  zoe:
    title: Renault Zoe
    capacity_kwh: 52
    detection_s: 0
    start: {state: plugged, soc_pct: 40, evcc_soc_pct: 40}
"""


class Process:
    """A child process whose log lines are read as they come (a full pipe never blocks it)."""

    def __init__(self, *args: str) -> None:
        self.child = subprocess.Popen([sys.executable, "-m", "smartload", *args], cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=lambda: [self.lines.put(line) for line in self.child.stderr or ()],
                                        daemon=True)
        self._reader.start()

    def wait_for(self, pattern: str, timeout_s: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no log line matching {pattern!r}") from None
            found = re.search(pattern, line)
            if found:
                return found

    def stop(self, sig: int) -> int:
        if self.child.poll() is None:
            os.kill(self.child.pid, sig)
        code = self.child.wait(30)
        self._reader.join(10)
        return code


def until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _sim(tmp_path: Path, write_latency_s: float) -> Iterator[str]:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    sim_settings = tmp_path / "sim.yaml"
    sim_settings.write_text(f"sim: {{write_latency_s: {write_latency_s}}}\n", encoding="utf-8")
    process = Process("sim", "--port", "0", "--speed", "1", "--scenario", str(scenario),
                      "--settings", str(sim_settings))
    try:
        yield process.wait_for(r"point evcc clients at (http://127\.0\.0\.1:\d+)").group(1)
    finally:
        process.stop(signal.SIGTERM)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[str]:
    yield from _sim(tmp_path, 0.0)


@pytest.fixture
def slow_sim(tmp_path: Path) -> Iterator[str]:
    """evcc that applies a write at once and answers it 3 s later (the simulator's
    write_latency_s, a busy evcc on a small board)."""
    yield from _sim(tmp_path, 3.0)


def restore_rows(db: Path) -> dict[str, tuple[str | None, str | None, str | None]]:
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(db) as connection:
            rows = connection.execute("SELECT key, original, ours, sent FROM evcc_restore").fetchall()
    except sqlite3.OperationalError:  # the table is not there yet
        return {}
    return {key: (original, ours, sent) for key, original, ours, sent in rows}


def loadpoint(url: str) -> dict[str, object]:
    state = httpx.get(f"{url}/api/state", timeout=10).json()
    return dict(state["loadpoints"][0])


def test_settings_smartload_changed_are_restored_at_the_clean_stop_after_a_kill_9(tmp_path: Path, sim: str) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"evcc: {{url: {sim}}}\n"
        f"data_dir: {tmp_path}\n"
        "web: {enabled: false}\n"
        "vehicles:\n"
        "  zoe: {capacity_kwh: 52}\n", encoding="utf-8")
    before = loadpoint(sim)
    assert (before["mode"], before["maxCurrent"]) == ("pv", 16)
    db = tmp_path / "smartload.db"

    first = Process("--settings", str(settings), "run")
    first.wait_for(r"evcc write POST /api/loadpoints/1/mode/")
    until(lambda: restore_rows(db).get("lp1.mode", (None, None, None))[1] is not None, "smartload's first mode write")
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    written = restore_rows(db)["lp1.mode"]
    assert written[0] == "pv" and loadpoint(sim)["mode"] == written[1] != "pv"

    second = Process("--settings", str(settings), "run")
    second.wait_for(r"plan \w+ in")  # it planned (and maybe wrote) from evcc's state as smartload left it
    assert second.stop(signal.SIGTERM) == 0
    after = loadpoint(sim)
    # What evcc had before the first run's first write, not what the killed run left behind.
    assert (after["mode"], after["maxCurrent"]) == ("pv", 16)
    assert restore_rows(db) == {}


def test_a_write_evcc_applied_but_had_not_answered_when_smartload_was_killed_is_restored(
        tmp_path: Path, slow_sim: str) -> None:
    """Killed while evcc's answer to its first mode write was on its way: the next run
    wants the same mode and evcc shows it, so it writes nothing; only the value kept
    before the write went out says the mode is smartload's, and its clean stop puts
    evcc's back. (Without that, evcc was left as smartload set it.)"""
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"evcc: {{url: {slow_sim}}}\n"
        f"data_dir: {tmp_path}\n"
        "web: {enabled: false}\n"
        "vehicles:\n"
        "  zoe: {capacity_kwh: 52}\n", encoding="utf-8")
    assert loadpoint(slow_sim)["mode"] == "pv"
    db = tmp_path / "smartload.db"

    first = Process("--settings", str(settings), "run")
    until(lambda: loadpoint(slow_sim)["mode"] != "pv", "evcc to apply smartload's first mode write")
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL  # within the 3 s before evcc answers
    applied = loadpoint(slow_sim)["mode"]
    assert restore_rows(db)["lp1.mode"] == ("pv", None, applied)  # sent, never answered

    second = Process("--settings", str(settings), "run")
    second.wait_for(r"plan \w+ in")
    assert second.stop(signal.SIGTERM) == 0
    after = loadpoint(slow_sim)
    assert (after["mode"], after["maxCurrent"]) == ("pv", 16)
    assert restore_rows(db) == {}
