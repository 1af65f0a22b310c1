"""The store survives kill -9 at any moment without losing a committed request: a real
child process writes as fast as it can and is killed with SIGKILL mid-stream, three times
over on the same file; then the real service is killed right after the API confirmed a
request."""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _kill_after(path: Path, commits: int) -> list[tuple[int, str, float]]:
    child = subprocess.Popen([sys.executable, "-m", "tests.store.killed_writer", "stream", str(path)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    confirmed = []
    assert child.stdout is not None
    while len(confirmed) < commits:
        line = child.stdout.readline()
        assert line, child.stderr.read() if child.stderr else "the writer died"
        rid, vehicle, target = line.split()
        confirmed.append((int(rid), vehicle, float(target)))
    os.kill(child.pid, signal.SIGKILL)  # the writer is between two commits or inside one
    child.wait(10)
    assert child.returncode == -signal.SIGKILL
    # Confirmations the writer printed before it died but the test had not read yet.
    for line in child.stdout.read().splitlines():
        rid, vehicle, target = line.split()
        confirmed.append((int(rid), vehicle, float(target)))
    child.stdout.close()
    child.stderr.close()
    return confirmed


def test_committed_requests_survive_kill_9_at_any_moment(tmp_path):
    path = tmp_path / "smartload.db"
    confirmed: list[tuple[int, str, float]] = []
    for rounds, commits in enumerate((10, 60, 150), start=1):
        confirmed += _kill_after(path, commits)
        assert Path(f"{path}-wal").exists()  # killed: nobody checkpointed the WAL
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            rows = {rid: (vehicle, target) for rid, vehicle, target in
                    db.execute("SELECT id, vehicle, target_soc_pct FROM requests")}
            missing = [c for c in confirmed if rows.get(c[0]) != (c[1], c[2])]
            assert missing == []
            # Extra: at most the one commit per kill whose confirmation the kill cut off.
            assert 0 <= len(rows) - len(confirmed) <= rounds
            assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] >= len(confirmed) - rounds


def test_a_kill_while_a_request_is_replaced_keeps_one_of_the_two(tmp_path):
    path = tmp_path / "smartload.db"
    child = subprocess.run([sys.executable, "-m", "tests.store.killed_writer", "supersede", str(path)], cwd=ROOT,
                           capture_output=True, text=True, timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr
    first = int(child.stdout.split()[0])
    with sqlite3.connect(path) as db:
        open_requests = db.execute("SELECT id, target_soc_pct FROM requests WHERE ended_at IS NULL").fetchall()
    # The replacement never committed, so the confirmed request must still be in force.
    assert open_requests == [(first, 80.0)]


def test_the_service_keeps_a_request_the_api_confirmed_when_killed(tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"data_dir: {tmp_path}\n"
        "web: {port: 0, token: kill-test-token-0123456789}\n"
        "sim: {speed: 60, seed: 1}\n"
        "vehicles:\n"
        "  zoe: {capacity_kwh: 52}\n", encoding="utf-8")
    service = subprocess.Popen([sys.executable, "-m", "smartload", "--settings", str(settings), "run"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    # Keep reading its log, so a full pipe never blocks the service.
    reader = threading.Thread(target=lambda: [lines.put(line) for line in service.stderr], daemon=True)
    reader.start()
    try:
        url = None
        while url is None:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                raise AssertionError("the service did not start its web server") from None
            found = re.search(r"dashboard at (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else None
        answer = httpx.post(f"{url}/api/requests", json={"vehicle": "zoe", "target_soc_pct": 95, "departure": "23:45"},
                            headers={"Authorization": "Bearer kill-test-token-0123456789"}, timeout=10)
        assert answer.status_code == 201
        os.kill(service.pid, signal.SIGKILL)
        service.wait(10)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait(10)
        reader.join(10)
        service.stderr.close()
    stored = answer.json()
    with sqlite3.connect(tmp_path / "smartload.db") as db:
        row = db.execute("SELECT vehicle, target_soc_pct, departure, source, ended_at FROM requests WHERE id = ?",
                         (stored["id"],)).fetchone()
    assert row == ("zoe", 95.0, stored["departure"].replace("Z", "+00:00"), "api", None)
