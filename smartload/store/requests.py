"""Charge requests kept in SQLite so they survive a restart: explicit ones as they are
made, and a default one (from settings) once it ends, so it is not derived again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from smartload.requests import ChargeRequest
from smartload.store.database import open_database

_SCHEMA = """
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



def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


class RequestStore:
    """One SQLite file (WAL) in the data directory. Every write commits at once."""

    def __init__(self, path: Path) -> None:
        # Default isolation: each `with self._db:` block is one transaction (a supersede and
        # its insert land together or not at all).
        self._db = open_database(path, _SCHEMA, synchronous="FULL")

    def close(self) -> None:
        self._db.close()

    def add(self, request: ChargeRequest, now: datetime) -> ChargeRequest:
        """Store a request; an open request of the same car is superseded."""
        with self._db:
            self._db.execute(
                "UPDATE requests SET ended_at = ?, end_reason = 'superseded' WHERE vehicle = ? AND ended_at IS NULL",
                (_iso(now), request.vehicle),
            )
            cursor = self._db.execute(
                "INSERT INTO requests (vehicle, target_soc_pct, energy_kwh, departure, priority, source, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (request.vehicle, request.target_soc_pct, request.energy_kwh, _iso(request.departure),
                 request.priority, request.source, _iso(now)),
            )
        return ChargeRequest(request.vehicle, request.departure, request.target_soc_pct, request.energy_kwh,
                             request.priority, request.source, now, cursor.lastrowid)

    def end(self, request: ChargeRequest, now: datetime, reason: str) -> None:
        """Close a request (done, left, cancelled). A default one is stored closed, so it is
        not derived again before its departure has passed."""
        with self._db:
            if request.id is None:
                self._db.execute(
                    "INSERT INTO requests (vehicle, target_soc_pct, energy_kwh, departure, priority, source,"
                    " created_at, ended_at, end_reason) VALUES (?, ?, ?, ?, ?, 'default', ?, ?, ?)",
                    (request.vehicle, request.target_soc_pct, request.energy_kwh, _iso(request.departure),
                     request.priority, _iso(now), _iso(now), reason),
                )
            else:
                self._db.execute(
                    "UPDATE requests SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
                    (_iso(now), reason, request.id),
                )

    def cancel(self, vehicle: str, now: datetime) -> bool:
        with self._db:
            cursor = self._db.execute(
                "UPDATE requests SET ended_at = ?, end_reason = 'cancelled' WHERE vehicle = ? AND ended_at IS NULL",
                (_iso(now), vehicle),
            )
        return cursor.rowcount > 0

    def revive(self, vehicle: str, now: datetime) -> bool:
        """A car plugged in again before its departure had not left after all: its request
        that ended with 'left' applies again."""
        with self._db:
            reopened = self._db.execute(
                "UPDATE requests SET ended_at = NULL, end_reason = NULL WHERE id = ("
                " SELECT id FROM requests WHERE vehicle = ? AND end_reason = 'left' AND departure > ?"
                " AND source != 'default' ORDER BY id DESC LIMIT 1)"
                # A request made since the car left is the one in force.
                " AND NOT EXISTS (SELECT 1 FROM requests WHERE vehicle = ? AND ended_at IS NULL)",
                (vehicle, _iso(now), vehicle),
            ).rowcount
            dropped = self._db.execute(
                "DELETE FROM requests WHERE vehicle = ? AND source = 'default' AND end_reason = 'left'"
                " AND departure > ?",
                (vehicle, _iso(now)),
            ).rowcount
        return bool(reopened or dropped)

    def open_requests(self) -> dict[str, ChargeRequest]:
        rows = self._db.execute(
            "SELECT id, vehicle, target_soc_pct, energy_kwh, departure, priority, source, created_at"
            " FROM requests WHERE ended_at IS NULL ORDER BY id"
        ).fetchall()
        return {
            r[1]: ChargeRequest(r[1], _time(r[4]), r[2], r[3], r[5], r[6], _time(r[7]), r[0]) for r in rows
        }

    def early_departures(self, limit: int) -> list[timedelta]:
        """How long before the departure they gave drivers left, over the newest `limit`
        explicit requests that ended with the car leaving (zero for those who left late)."""
        rows = self._db.execute(
            "SELECT departure, ended_at FROM requests WHERE end_reason = 'left' AND source != 'default'"
            " ORDER BY ended_at DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [max(timedelta(0), _time(departure) - _time(ended)) for departure, ended in rows]

    def default_ended(self, vehicle: str, departure: datetime) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM requests WHERE vehicle = ? AND source = 'default' AND departure = ? LIMIT 1",
            (vehicle, _iso(departure)),
        ).fetchone()
        return row is not None

    def boost(self, vehicle: str, until: datetime) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO boosts (vehicle, until) VALUES (?, ?)", (vehicle, _iso(until)))

    def boosts(self, now: datetime) -> dict[str, datetime]:
        rows = self._db.execute("SELECT vehicle, until FROM boosts").fetchall()
        return {v: _time(u) for v, u in rows if _time(u) > now}
