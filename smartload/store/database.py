"""Opening the data directory's SQLite file: one connection policy for every store in it.

Each store (requests, history, the house-load profile, what to restore in evcc) keeps its
own tables in the same file. All open it alike: created 0600 before SQLite sees it (its
-wal and -shm files follow that mode), write-ahead logging so readers never block the
writer, a busy timeout so two stores' writes wait for each other instead of failing, and
the schema applied (every statement `IF NOT EXISTS`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

from smartload.store.datadir import private_database

BUSY_TIMEOUT_S = 10.0


def open_database(path: Path, schema: str, synchronous: Literal["FULL", "NORMAL"] = "FULL") -> sqlite3.Connection:
    """A connection to `path` with the schema in place. synchronous FULL for what must
    survive a crash the moment it is confirmed (requests, restore values); NORMAL for
    history, where the last moments before a power cut may go."""
    private_database(path)
    db = sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.executescript(schema)
    return db
