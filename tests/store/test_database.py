"""One Database per file: its connection policy, the schema version and its migrations (a
file from before versions were kept opens with its rows; a file from a newer smartload is
refused), transactions, and the one way the stores write and read times."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smartload.domain import SocReading
from smartload.events import Event
from smartload.requests import ChargeRequest
from smartload.store.database import Database, DatabaseTooNew, from_text, to_text
from smartload.store.evcc_restore import EvccRestoreStore
from smartload.store.habits import HabitStore
from smartload.store.history import HistoryStore
from smartload.store.house import HouseProfileStore
from smartload.store.requests import RequestStore
from smartload.store.schema import MIGRATIONS, Migration

NOW = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)

# The stores' DDL as it was before the Database and its versions, copied verbatim.
BEFORE_REQUESTS = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    vehicle TEXT NOT NULL,
    target_soc_pct REAL,
    energy_kwh REAL,
    departure TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT
);
CREATE INDEX IF NOT EXISTS requests_open ON requests (vehicle, ended_at);
CREATE TABLE IF NOT EXISTS boosts (
    vehicle TEXT PRIMARY KEY,
    until TEXT NOT NULL
);
"""
BEFORE_HOUSE = """
CREATE TABLE IF NOT EXISTS house_profile (
    weekend INTEGER NOT NULL,
    quarter INTEGER NOT NULL,
    watts REAL NOT NULL,
    PRIMARY KEY (weekend, quarter)
);
"""
BEFORE_EVCC_RESTORE = """
CREATE TABLE IF NOT EXISTS evcc_restore (
    key TEXT PRIMARY KEY,
    original TEXT,
    ours TEXT,
    changed_at TEXT NOT NULL
);
"""
BEFORE_HISTORY = """
CREATE TABLE IF NOT EXISTS soc_readings (
    id INTEGER PRIMARY KEY, vehicle TEXT NOT NULL, soc_pct REAL NOT NULL, source TEXT NOT NULL,
    measured_at TEXT NOT NULL, measured_at_known INTEGER NOT NULL, received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS soc_readings_received ON soc_readings (received_at);
CREATE TABLE IF NOT EXISTS plans (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL,
    solve_s REAL NOT NULL, cost_eur REAL NOT NULL, slots INTEGER NOT NULL, horizon_end TEXT,
    cars TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS plans_at ON plans (at);
CREATE TABLE IF NOT EXISTS writes (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    ok INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS writes_at ON writes (at);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, vehicle TEXT, text TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events (at);
CREATE TABLE IF NOT EXISTS energy (
    slot_start TEXT NOT NULL, basis TEXT NOT NULL, account TEXT NOT NULL,
    kwh REAL NOT NULL, eur REAL NOT NULL,
    PRIMARY KEY (slot_start, basis, account)
);
"""


def raw(path: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(path, isolation_level=None))


def schema(path: Path) -> set[tuple[str, str, str]]:
    with raw(path) as db:
        return set(db.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))


def user_version(path: Path) -> int:
    with raw(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_a_file_from_before_versions_were_kept_opens_with_its_rows_as_version_1(tmp_path):
    path = tmp_path / "smartload.db"
    departure = datetime(2026, 3, 3, 6, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    with raw(path) as before:  # as the stores wrote it, each with its own connection and DDL
        for ddl in (BEFORE_REQUESTS, BEFORE_HOUSE, BEFORE_EVCC_RESTORE, BEFORE_HISTORY):
            before.executescript(ddl)
        before.execute("PRAGMA journal_mode=WAL")
        before.execute("INSERT INTO requests (vehicle, target_soc_pct, energy_kwh, departure, priority, source,"
                       " created_at) VALUES ('zoe', 80.0, NULL, ?, 0, 'api', ?)",
                       (departure.astimezone(UTC).isoformat(), NOW.isoformat()))
        before.execute("INSERT INTO boosts VALUES ('zoe', ?)", ((NOW + timedelta(hours=1)).isoformat(),))
        before.execute("INSERT INTO house_profile VALUES (0, 72, 713.5)")
        before.execute("INSERT INTO evcc_restore VALUES ('lp1.mode', 'pv', 'now', ?)", (NOW.isoformat(),))
        before.execute("INSERT INTO events (at, kind, vehicle, text, data) VALUES (?, 'refresh', 'zoe', 'zoe SoC',"
                       " '{}')", (NOW.isoformat(),))
    assert user_version(path) == 0
    before_schema = schema(path)

    with Database.open(path, migrations=MIGRATIONS[:1]) as db:
        assert db.version == 1
        assert RequestStore(db).open_requests() == {
            "zoe": ChargeRequest("zoe", departure.astimezone(UTC), 80.0, None, 0, "api", NOW, 1)}
        assert RequestStore(db).boosts(NOW) == {"zoe": NOW + timedelta(hours=1)}
        assert HouseProfileStore(db).load() == {(False, 72): 713.5}
        assert db.query("SELECT key, original, ours FROM evcc_restore") == [("lp1.mode", "pv", "now")]
        assert [e["text"] for e in HistoryStore(db, 90).events()] == ["zoe SoC"]
    # Version 1 is those tables exactly: nothing was added or changed, and a fresh file has the same.
    assert schema(path) == before_schema
    with Database.open(tmp_path / "fresh.db", migrations=MIGRATIONS[:1]):
        pass
    assert schema(tmp_path / "fresh.db") == before_schema


def test_a_version_1_file_gets_the_habit_tables_and_keeps_its_rows(tmp_path):
    path = tmp_path / "smartload.db"
    with Database.open(path, migrations=MIGRATIONS[:1]) as db:
        HouseProfileStore(db).save({(False, 72): 713.5})
    with Database.open(path) as db:
        assert db.version == len(MIGRATIONS)
        assert HouseProfileStore(db).load() == {(False, 72): 713.5}
        assert HabitStore(db).load() == {}
    assert user_version(path) == len(MIGRATIONS)
    assert {"habit_days", "habit_cars"} <= {name for _, name, _ in schema(path)}


def test_a_version_2_file_s_restore_rows_get_the_value_on_its_way_and_keep_theirs(tmp_path):
    path = tmp_path / "smartload.db"
    with Database.open(path, migrations=MIGRATIONS[:2]) as db, db.transaction() as tx:
        tx.execute("INSERT INTO evcc_restore VALUES ('lp1.mode', 'pv', 'now', ?)", (NOW.isoformat(),))
    with Database.open(path) as db:
        assert db.version == 3 == len(MIGRATIONS)
        store = EvccRestoreStore(db)
        assert store.load() == {"lp1.mode": ("pv", "now", None)}
        store.save("lp1.maxcurrent", "16", None, "6")
        store.save("lp1.mode", "pv", "now", None)
        assert store.load() == {"lp1.maxcurrent": ("16", None, "6"), "lp1.mode": ("pv", "now", None)}


def test_a_file_with_only_some_tables_gets_the_others(tmp_path):
    path = tmp_path / "smartload.db"
    with raw(path) as before:  # the history store never ran on it
        before.executescript(BEFORE_REQUESTS)
    with Database.open(path) as db:
        history = HistoryStore(db, 90)
        history.add_event(Event(NOW, "refresh", "zoe SoC", "zoe"))
        assert len(history.events()) == 1
    assert user_version(path) == len(MIGRATIONS)


def test_a_fresh_file_gets_the_latest_version_and_the_connection_policy(tmp_path):
    path = tmp_path / "data" / "smartload.db"
    with Database.open(path) as db:
        assert db.version == len(MIGRATIONS)
        assert db.query("PRAGMA journal_mode") == [("wal",)]
        assert db.query("PRAGMA synchronous") == [(2,)]  # FULL
        assert db.query("PRAGMA foreign_keys") == [(1,)]
        assert db.query("PRAGMA busy_timeout") == [(10000,)]
    assert user_version(path) == len(MIGRATIONS)


def test_a_file_from_a_newer_smartload_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "smartload.db"
    future = len(MIGRATIONS) + 1
    with raw(path) as newer:
        newer.execute("CREATE TABLE from_the_future (x)")
        newer.execute(f"PRAGMA user_version = {future}")
    with pytest.raises(DatabaseTooNew) as refused:
        Database.open(path)
    assert str(refused.value) == (f"{path}: its schema is version {future}, newer than this smartload knows "
                                  f"(version {len(MIGRATIONS)}); run the smartload that wrote it, "
                                  "or move the file away")
    assert user_version(path) == future  # left as it was
    assert {name for _, name, _ in schema(path)} == {"from_the_future"}


def test_later_steps_run_once_in_order_and_a_failing_one_changes_nothing(tmp_path):
    path = tmp_path / "smartload.db"
    with Database.open(path):
        pass
    step_2 = Migration("a new table", ("CREATE TABLE extra (x)", "INSERT INTO extra VALUES (1)"))
    for _ in range(2):  # the second open finds version 2: no step runs again
        with Database.open(path, migrations=(*MIGRATIONS, step_2)) as db:
            assert db.version == len(MIGRATIONS) + 1
            assert db.query("SELECT x FROM extra") == [(1,)]
    broken = Migration("broken", ("CREATE TABLE half (x)", "INSERT INTO nowhere VALUES (1)"))
    with pytest.raises(sqlite3.OperationalError, match="no such table: nowhere"):
        Database.open(path, migrations=(*MIGRATIONS, step_2, broken))
    assert user_version(path) == len(MIGRATIONS) + 1
    assert "half" not in {name for _, name, _ in schema(path)}


def test_every_store_shares_one_in_memory_database():
    with Database.open(":memory:") as db:
        requests, history = RequestStore(db), HistoryStore(db, retention_days=30)
        old = NOW - timedelta(days=40)
        requests.end(ChargeRequest("zoe", old + timedelta(hours=10), 80.0), old, "departed")
        kept = requests.add(ChargeRequest("ioniq", NOW + timedelta(hours=10), 70.0, source="api"), NOW)
        history.add_readings([SocReading("zoe", 50.0, "manual", old, old)])
        assert history.purge(NOW) == 2  # the reading and the ended request: same database
        assert requests.open_requests() == {"ioniq": kept}
        assert db.version == len(MIGRATIONS)


def test_a_transaction_commits_whole_or_not_at_all_and_does_not_nest(tmp_path):
    with Database.open(tmp_path / "smartload.db") as db:
        with pytest.raises(ZeroDivisionError), db.transaction() as tx:
            tx.execute("INSERT INTO boosts VALUES ('zoe', 'x')")
            1 / 0  # noqa: B018
        assert db.query("SELECT * FROM boosts") == []
        with pytest.raises(RuntimeError, match="transactions do not nest"), db.transaction(), db.transaction():
            pass
        with db.transaction() as tx:
            tx.execute("INSERT INTO boosts VALUES ('zoe', 'y')")
        assert db.query("SELECT * FROM boosts") == [("zoe", "y")]


def test_threads_writing_through_one_database_keep_their_transactions_whole(tmp_path):
    with Database.open(tmp_path / "smartload.db") as db:

        def write(vehicle: str) -> None:
            for i in range(50):
                with db.transaction() as tx:  # two rows that belong together
                    tx.execute("INSERT INTO house_profile VALUES (?, ?, 1.0)", (vehicle == "a", i))
                    tx.execute("INSERT INTO evcc_restore (key, original, ours, changed_at)"
                               " VALUES (?, NULL, NULL, 'at')", (f"{vehicle}{i}",))

        threads = [threading.Thread(target=write, args=(v,)) for v in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert db.query("SELECT COUNT(*) FROM house_profile") == [(100,)]
        assert db.query("SELECT COUNT(*) FROM evcc_restore") == [(100,)]


@pytest.mark.parametrize("at", [
    NOW, NOW.replace(microsecond=250), datetime(2026, 3, 3, 6, 30, tzinfo=ZoneInfo("Europe/Berlin")),
    datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-4))),
])
def test_stored_times_keep_the_text_they_always_had(at):
    assert to_text(at) == at.astimezone(UTC).isoformat()  # byte for byte: SQL compares this text
    assert from_text(to_text(at)) == at
    assert from_text(to_text(at)).tzinfo is not None


def test_a_time_without_a_zone_is_neither_stored_nor_read():
    with pytest.raises(ValueError, match="needs a time zone"):
        to_text(datetime(2026, 3, 2, 19, 0))
    with pytest.raises(ValueError, match="without a time zone"):
        from_text("2026-03-02T19:00:00")
