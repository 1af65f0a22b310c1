"""Charge requests kept in SQLite so they survive a restart: explicit ones as they are
made, and a default one (from settings) once it ends, so it is not derived again."""

from __future__ import annotations

from datetime import datetime, timedelta

from smartload.requests import ChargeRequest
from smartload.store.database import Database, from_text, to_text


class RequestStore:
    """The requests and boosts tables of the process's Database. Every write commits at once."""

    def __init__(self, db: Database) -> None:
        # Each `with self._db.transaction()` block is one transaction (a supersede and its
        # insert land together or not at all).
        self._db = db

    def add(self, request: ChargeRequest, now: datetime) -> ChargeRequest:
        """Store a request; an open request of the same car is superseded."""
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE requests SET ended_at = ?, end_reason = 'superseded' WHERE vehicle = ? AND ended_at IS NULL",
                (to_text(now), request.vehicle),
            )
            cursor = tx.execute(
                "INSERT INTO requests (vehicle, target_soc_pct, energy_kwh, departure, priority, source, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (request.vehicle, request.target_soc_pct, request.energy_kwh, to_text(request.departure),
                 request.priority, request.source, to_text(now)),
            )
        return ChargeRequest(request.vehicle, request.departure, request.target_soc_pct, request.energy_kwh,
                             request.priority, request.source, now, cursor.lastrowid)

    def end(self, request: ChargeRequest, now: datetime, reason: str) -> None:
        """Close a request (done, left, cancelled). A default one is stored closed, so it is
        not derived again before its departure has passed."""
        with self._db.transaction() as tx:
            if request.id is None:
                tx.execute(
                    "INSERT INTO requests (vehicle, target_soc_pct, energy_kwh, departure, priority, source,"
                    " created_at, ended_at, end_reason) VALUES (?, ?, ?, ?, ?, 'default', ?, ?, ?)",
                    (request.vehicle, request.target_soc_pct, request.energy_kwh, to_text(request.departure),
                     request.priority, to_text(now), to_text(now), reason),
                )
            else:
                tx.execute(
                    "UPDATE requests SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
                    (to_text(now), reason, request.id),
                )

    def cancel(self, vehicle: str, now: datetime) -> bool:
        with self._db.transaction() as tx:
            cursor = tx.execute(
                "UPDATE requests SET ended_at = ?, end_reason = 'cancelled' WHERE vehicle = ? AND ended_at IS NULL",
                (to_text(now), vehicle),
            )
        return cursor.rowcount > 0

    def revive(self, vehicle: str, now: datetime) -> bool:
        """A car plugged in again before its departure had not left after all: its request
        that ended with 'left' applies again."""
        with self._db.transaction() as tx:
            reopened = tx.execute(
                "UPDATE requests SET ended_at = NULL, end_reason = NULL WHERE id = ("
                " SELECT id FROM requests WHERE vehicle = ? AND end_reason = 'left' AND departure > ?"
                " AND source != 'default' ORDER BY id DESC LIMIT 1)"
                # A request made since the car left is the one in force.
                " AND NOT EXISTS (SELECT 1 FROM requests WHERE vehicle = ? AND ended_at IS NULL)",
                (vehicle, to_text(now), vehicle),
            ).rowcount
            dropped = tx.execute(
                "DELETE FROM requests WHERE vehicle = ? AND source = 'default' AND end_reason = 'left'"
                " AND departure > ?",
                (vehicle, to_text(now)),
            ).rowcount
        return bool(reopened or dropped)

    def open_requests(self) -> dict[str, ChargeRequest]:
        rows = self._db.query(
            "SELECT id, vehicle, target_soc_pct, energy_kwh, departure, priority, source, created_at"
            " FROM requests WHERE ended_at IS NULL ORDER BY id"
        )
        return {
            r[1]: ChargeRequest(r[1], from_text(r[4]), r[2], r[3], r[5], r[6], from_text(r[7]), r[0]) for r in rows
        }

    def early_departures(self, limit: int) -> list[timedelta]:
        """How long before the departure they gave drivers left, over the newest `limit`
        explicit requests that ended with the car leaving (zero for those who left late)."""
        rows = self._db.query(
            "SELECT departure, ended_at FROM requests WHERE end_reason = 'left' AND source != 'default'"
            " ORDER BY ended_at DESC LIMIT ?",
            (limit,),
        )
        return [max(timedelta(0), from_text(departure) - from_text(ended)) for departure, ended in rows]

    def default_ended(self, vehicle: str, departure: datetime) -> bool:
        rows = self._db.query(
            "SELECT 1 FROM requests WHERE vehicle = ? AND source = 'default' AND departure = ? LIMIT 1",
            (vehicle, to_text(departure)),
        )
        return bool(rows)

    def boost(self, vehicle: str, until: datetime) -> None:
        with self._db.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO boosts (vehicle, until) VALUES (?, ?)", (vehicle, to_text(until)))

    def boosts(self, now: datetime) -> dict[str, datetime]:
        rows = self._db.query("SELECT vehicle, until FROM boosts")
        return {v: from_text(u) for v, u in rows if from_text(u) > now}
