"""The learned house-load profile, kept in the data directory's SQLite file so a restart
(an update, a reboot) does not fall back to the constant forecast for a week."""

from __future__ import annotations

from collections.abc import Mapping

from smartload.store.database import Database


class HouseProfileStore:
    """The house_profile table of the process's Database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self) -> dict[tuple[bool, int], float]:
        rows = self._db.query("SELECT weekend, quarter, watts FROM house_profile")
        return {(bool(weekend), int(quarter)): float(watts) for weekend, quarter, watts in rows}

    def save(self, learned: Mapping[tuple[bool, int], float]) -> None:
        with self._db.transaction() as tx:
            tx.executemany(
                "INSERT INTO house_profile (weekend, quarter, watts) VALUES (?, ?, ?)"
                " ON CONFLICT (weekend, quarter) DO UPDATE SET watts = excluded.watts",
                [(int(weekend), quarter, watts) for (weekend, quarter), watts in learned.items()],
            )
