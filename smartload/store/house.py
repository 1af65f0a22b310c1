"""The learned house-load profile, kept in the data directory's SQLite file so a restart
(an update, a reboot) does not fall back to the constant forecast for a week."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from smartload.store.database import open_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS house_profile (
    weekend INTEGER NOT NULL,
    quarter INTEGER NOT NULL,
    watts REAL NOT NULL,
    PRIMARY KEY (weekend, quarter)
);
"""


class HouseProfileStore:
    def __init__(self, path: Path) -> None:
        self._db = open_database(path, _SCHEMA, synchronous="NORMAL")

    def close(self) -> None:
        self._db.close()

    def load(self) -> dict[tuple[bool, int], float]:
        rows = self._db.execute("SELECT weekend, quarter, watts FROM house_profile").fetchall()
        return {(bool(weekend), int(quarter)): float(watts) for weekend, quarter, watts in rows}

    def save(self, learned: Mapping[tuple[bool, int], float]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT INTO house_profile (weekend, quarter, watts) VALUES (?, ?, ?)"
                " ON CONFLICT (weekend, quarter) DO UPDATE SET watts = excluded.watts",
                [(int(weekend), quarter, watts) for (weekend, quarter), watts in learned.items()],
            )
