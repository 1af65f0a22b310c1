"""Opening the data directory's SQLite file: one connection policy for every store in it.

Each store (requests, history, the house-load profile, what to restore in evcc) keeps its
own tables in the same file, and all of them share one `Database`: the process opens the
file once and closes it once. The file is created 0600 before SQLite sees it (its -wal and
-shm files follow that mode), with write-ahead logging so readers never block the writer,
synchronous FULL so a confirmed commit survives a power cut (requests must), foreign keys
on, a busy timeout so another connection's write is waited for instead of failing, and the
schema brought to the version this code knows (schema.py).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from smartload.store.datadir import private_database
from smartload.store.schema import MIGRATIONS, Migration
from smartload.timefmt import iso_utc, parse_iso

BUSY_TIMEOUT_S = 10.0


class DatabaseTooNew(Exception):
    """The file's schema is newer than this code; the message is one line for the user."""


def to_text(at: datetime) -> str:
    """A time as the stores keep it: timefmt.iso_utc, ISO 8601 in UTC with "+00:00", so
    text order is time order and SQL compares it as text. A naive time is refused: it
    would be taken for the machine's local time."""
    if at.tzinfo is None:
        raise ValueError(f"a stored time needs a time zone: {at!r}")
    return iso_utc(at)


def from_text(text: str) -> datetime:
    """A stored time back, always aware (every stored time carries its offset)."""
    at = parse_iso(text)
    if at.tzinfo is None:
        raise ValueError(f"a stored time without a time zone: {text!r}")
    return at


class Database:
    """with Database.open(path) as db: RequestStore(db) ... One connection, shared by every
    store on the file; `transaction()` for writes, `query()` for reads. It may be used from
    more than one thread (a test's server thread): a lock keeps each transaction whole."""

    def __init__(self, connection: sqlite3.Connection, path: Path | str) -> None:
        """Use Database.open."""
        self._connection = connection
        self._lock = threading.RLock()
        self.path = path

    @classmethod
    def open(cls, path: Path | str, *, migrations: Sequence[Migration] = MIGRATIONS) -> Database:
        """The file at `path` (":memory:": a private in-memory database), its schema at the
        latest version. Raises DatabaseTooNew for a file a newer smartload wrote."""
        private_database(Path(path))
        name = str(path)
        # check_same_thread off: a store may be built in one thread and used or closed in
        # another (tests serve the web API from a thread of their own); the lock guards it.
        connection = sqlite3.connect(name, timeout=BUSY_TIMEOUT_S, check_same_thread=False,
                                     isolation_level=None, uri=name.startswith("file:"))
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            db = cls(connection, path)
            db._migrate(migrations)
        except BaseException:
            connection.close()
            raise
        return db

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def version(self) -> int:
        """The schema version of the file (PRAGMA user_version)."""
        return int(self.query("PRAGMA user_version")[0][0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """with db.transaction() as tx: tx.execute(...) ... commits at the end, or rolls
        back on an exception. It takes the write lock at once (BEGIN IMMEDIATE), so a
        writer in another process is waited for up to the busy timeout. Does not nest."""
        with self._lock:
            connection = self._connection
            if connection.in_transaction:
                raise RuntimeError("transactions do not nest")
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one read."""
        with self._lock:
            rows: list[tuple[Any, ...]] = self._connection.execute(sql, parameters).fetchall()
        return rows

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        """Run the steps the file lacks, all in one transaction with the new version."""
        latest = len(migrations)
        with self.transaction() as tx:
            version = int(tx.execute("PRAGMA user_version").fetchone()[0])
            if version > latest:
                raise DatabaseTooNew(f"{self.path}: its schema is version {version}, newer than this smartload knows "
                                     f"(version {latest}); run the smartload that wrote it, or move the file away")
            for step in migrations[version:]:
                for statement in step.statements:
                    tx.execute(statement)
            if version != latest:
                tx.execute(f"PRAGMA user_version = {latest:d}")
