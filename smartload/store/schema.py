"""The data directory's SQLite schema, as an ordered list of migrations.

Step N takes a file from version N-1 to version N (`PRAGMA user_version`); a file holds
every store's tables. Version 1 is the schema of the releases before versions were kept,
statement for statement, every one `IF NOT EXISTS`: a file they wrote (version 0, some
tables perhaps never created) becomes version 1 unchanged and keeps its rows. A change
to the schema is a new step at the end; a step once released is never edited.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    """One step: `statements` run in order, in the transaction that also sets the version."""

    what: str
    statements: tuple[str, ...]


_V1_REQUESTS = (
    """CREATE TABLE IF NOT EXISTS requests (
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
)""",
    "CREATE INDEX IF NOT EXISTS requests_open ON requests (vehicle, ended_at)",
    """CREATE TABLE IF NOT EXISTS boosts (
    vehicle TEXT PRIMARY KEY,
    until TEXT NOT NULL
)""",
)

_V1_HOUSE = (
    """CREATE TABLE IF NOT EXISTS house_profile (
    weekend INTEGER NOT NULL,
    quarter INTEGER NOT NULL,
    watts REAL NOT NULL,
    PRIMARY KEY (weekend, quarter)
)""",
)

_V1_EVCC_RESTORE = (
    """CREATE TABLE IF NOT EXISTS evcc_restore (
    key TEXT PRIMARY KEY,
    original TEXT,
    ours TEXT,
    changed_at TEXT NOT NULL
)""",
)

_V1_HISTORY = (
    """CREATE TABLE IF NOT EXISTS soc_readings (
    id INTEGER PRIMARY KEY, vehicle TEXT NOT NULL, soc_pct REAL NOT NULL, source TEXT NOT NULL,
    measured_at TEXT NOT NULL, measured_at_known INTEGER NOT NULL, received_at TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS soc_readings_received ON soc_readings (received_at)",
    """CREATE TABLE IF NOT EXISTS plans (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL,
    solve_s REAL NOT NULL, cost_eur REAL NOT NULL, slots INTEGER NOT NULL, horizon_end TEXT,
    cars TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS plans_at ON plans (at)",
    """CREATE TABLE IF NOT EXISTS writes (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    ok INTEGER NOT NULL, text TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS writes_at ON writes (at)",
    """CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, vehicle TEXT, text TEXT NOT NULL,
    data TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS events_at ON events (at)",
    """CREATE TABLE IF NOT EXISTS energy (
    slot_start TEXT NOT NULL, basis TEXT NOT NULL, account TEXT NOT NULL,
    kwh REAL NOT NULL, eur REAL NOT NULL,
    PRIMARY KEY (slot_start, basis, account)
)""",
)

_V2_HABITS = (
    """CREATE TABLE habit_days (
    vehicle TEXT NOT NULL, weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    arrive_min REAL, arrive_soc_pct REAL, drop_pct REAL, arrive_p REAL, depart_min REAL,
    arrivals INTEGER NOT NULL DEFAULT 0, departures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vehicle, weekday)
)""",
    """CREATE TABLE habit_cars (
    vehicle TEXT PRIMARY KEY, early_share REAL, early_min REAL
)""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration("requests, boosts, house profile, evcc restore values and history, as before versions were kept",
              _V1_REQUESTS + _V1_HOUSE + _V1_EVCC_RESTORE + _V1_HISTORY),
    Migration("learned driver habits per car and weekday (habits.py)", _V2_HABITS),
    Migration("the evcc value on its way, kept before it is sent (sinks/restore_book.py)",
              ("ALTER TABLE evcc_restore ADD COLUMN sent TEXT",)),
)
