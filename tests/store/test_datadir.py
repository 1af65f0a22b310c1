"""The data directory is private and has one owner: the SQLite files (and their -wal and
-shm files) are created 0600, and a second service on the same directory stops at once
with one line and exit code 2, until the first one ends, however it ends (kill -9)."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smartload.domain import SocReading
from smartload.requests import ChargeRequest
from smartload.store.database import Database
from smartload.store.datadir import LOCK_FILE, DataDirLocked, InstanceLock
from smartload.store.history import HistoryStore
from smartload.store.house import HouseProfileStore
from smartload.store.requests import RequestStore

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """A umask that would leave new files readable by everyone, as many systems have."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_database_and_its_wal_and_shm_files_are_created_0600(tmp_path, open_umask):
    path = tmp_path / "data" / "smartload.db"
    with Database.open(path) as db:
        RequestStore(db).add(ChargeRequest("zoe", NOW + timedelta(hours=5), 80.0), NOW)
        HistoryStore(db, 90).add_readings([SocReading("zoe", 50.0, "manual", NOW, NOW)])
        HouseProfileStore(db).save({(False, 3): 400.0})
        files = {p.name: mode(p) for p in path.parent.iterdir()}
    assert files == {"smartload.db": 0o600, "smartload.db-wal": 0o600, "smartload.db-shm": 0o600}
    assert mode(path.parent) == 0o700  # made by us: private too


def test_files_an_older_version_left_readable_are_made_private(tmp_path, open_umask):
    db = tmp_path / "smartload.db"
    with contextlib.closing(sqlite3.connect(db)) as older:  # as versions before this one made it
        older.execute("CREATE TABLE t (x)")
    assert mode(db) == 0o644
    with Database.open(db) as opened:
        RequestStore(opened).add(ChargeRequest("zoe", NOW + timedelta(hours=5), 80.0), NOW)
        assert {p.name: mode(p) for p in tmp_path.iterdir()} == {
            "smartload.db": 0o600, "smartload.db-wal": 0o600, "smartload.db-shm": 0o600}


def test_the_lock_is_exclusive_and_freed_on_leaving(tmp_path):
    with InstanceLock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()}\n"
        assert mode(tmp_path / LOCK_FILE) == 0o600
        with pytest.raises(DataDirLocked) as error, InstanceLock(tmp_path):
            pass
        assert str(error.value) == (f"{tmp_path}: another smartload (pid {os.getpid()}) is running on this data "
                                    "directory; stop it, or give this one its own data_dir")
    with InstanceLock(tmp_path):  # free again
        pass


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTLOAD_")}
    return {**env, "SMARTLOAD_DATA_DIR": str(data_dir), "SMARTLOAD_WEB__ENABLED": "false",
            "SMARTLOAD_EVCC__URL": f"http://127.0.0.1:{_closed_port()}"}


def _start(data_dir: Path) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    """The real service; returns once it polls (it holds the lock from before it starts)."""
    service = subprocess.Popen([sys.executable, "-m", "smartload", "--settings", str(data_dir / "s.yaml"), "run"],
                               cwd=ROOT, env=_env(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert service.stderr is not None
    threading.Thread(target=lambda: [lines.put(line) for line in service.stderr], daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=30)
        except queue.Empty:
            service.kill()
            raise AssertionError("the service did not start polling") from None
        if "polling http://127.0.0.1" in line:
            return service, lines


def _second(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smartload", "--settings", str(data_dir / "s.yaml"), "run",
                           "--duration", "0.2s"], cwd=ROOT, env=_env(data_dir), capture_output=True, text=True,
                          timeout=60)


def test_a_second_service_on_the_same_data_directory_exits_2_until_the_first_is_killed(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "s.yaml").write_text("vehicles:\n  zoe: {capacity_kwh: 52}\n")
    first, _ = _start(data_dir)
    try:
        second = _second(data_dir)
        assert second.returncode == 2
        assert second.stderr == (f"{data_dir}: another smartload (pid {first.pid}) is running on this data directory;"
                                 " stop it, or give this one its own data_dir\n")
        os.kill(first.pid, signal.SIGKILL)  # no chance to unlock: the kernel frees the lock
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    with InstanceLock(data_dir):  # the next start gets it
        assert (data_dir / LOCK_FILE).read_text() == f"{os.getpid()}\n"
