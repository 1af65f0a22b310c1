"""What evcc showed before smartload changed a setting, kept so a crash loses none of it.

One row per evcc setting smartload has written: the value evcc had before smartload's
first write (what a clean shutdown puts back) and the last value smartload wrote (put
back only while evcc still shows it). Rows are written as they change, so after a
`kill -9` the next run still knows what to restore at its own clean stop.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from smartload.store.database import open_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS evcc_restore (
    key TEXT PRIMARY KEY,
    original TEXT,
    ours TEXT,
    changed_at TEXT NOT NULL
);
"""


class EvccRestoreStore:
    """The actuator's RestoreStore in the data directory's SQLite file (WAL)."""

    def __init__(self, path: Path) -> None:
        self._db = open_database(path, _SCHEMA, synchronous="FULL")

    def close(self) -> None:
        self._db.close()

    def load(self) -> dict[str, tuple[str | None, str | None]]:
        rows = self._db.execute("SELECT key, original, ours FROM evcc_restore ORDER BY key").fetchall()
        return {key: (original, ours) for key, original, ours in rows}

    def save(self, key: str, original: str | None, ours: str | None) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO evcc_restore (key, original, ours, changed_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET ours = excluded.ours, changed_at = excluded.changed_at",
                (key, original, ours, datetime.now(UTC).isoformat()),
            )

    def delete(self, key: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM evcc_restore WHERE key = ?", (key,))
