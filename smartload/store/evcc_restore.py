"""What evcc showed before smartload changed a setting, kept so a crash loses none of it.

One row per evcc setting smartload has written: the value evcc had before smartload's
first write (what a clean shutdown puts back), the last value evcc acknowledged from
smartload and the one on its way (put back only while evcc still shows one of them; see
sinks/restore_book.py). Rows are written as they change, the value on its way before it
is sent, so after a `kill -9` the next run still knows what to restore at its own clean
stop.
"""

from __future__ import annotations

from datetime import UTC, datetime

from smartload.store.database import Database, to_text


class EvccRestoreStore:
    """The actuator's RestoreStore: the evcc_restore table of the process's Database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self) -> dict[str, tuple[str | None, str | None, str | None]]:
        rows = self._db.query("SELECT key, original, ours, sent FROM evcc_restore ORDER BY key")
        return {key: (original, ours, sent) for key, original, ours, sent in rows}

    def save(self, key: str, original: str | None, ours: str | None, sent: str | None) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO evcc_restore (key, original, ours, sent, changed_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET ours = excluded.ours, sent = excluded.sent,"
                " changed_at = excluded.changed_at",
                (key, original, ours, sent, to_text(datetime.now(UTC))),
            )

    def delete(self, key: str) -> None:
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM evcc_restore WHERE key = ?", (key,))
