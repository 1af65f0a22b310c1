"""Charge requests: what each car should reach by when, kept in SQLite so they survive a
restart. Default requests come from settings (target SoC and a weekly departure
schedule in the site's time zone) and are only stored once they end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from loguru import logger

from smartload.config_types import (
    REQUEST_MAX_AHEAD,
    REQUEST_MAX_ENERGY_KWH,
    REQUEST_MAX_PRIORITY,
    REQUEST_MAX_TARGET_SOC_PCT,
    REQUEST_MIN_TARGET_SOC_PCT,
)
from smartload.settings import WEEKDAYS, Settings
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


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """target_soc_pct, or energy_kwh for a car that reports no SoC. id None: a default
    request derived from settings that has not been stored."""

    vehicle: str
    departure: datetime
    target_soc_pct: float | None = None
    energy_kwh: float | None = None
    priority: int = 0
    source: str = "default"
    created_at: datetime | None = None
    id: int | None = None


def request_problem(request: ChargeRequest, now: datetime) -> str | None:
    """"<field>: why" if the request breaks the bounds every source shares
    (config_types.REQUEST_*), else None. A departure already past is no problem here: an
    open request lives on until its car leaves."""
    target, energy = request.target_soc_pct, request.energy_kwh
    if (target is None) == (energy is None):
        return "target_soc_pct: give either target_soc_pct or energy_kwh"
    # Written so that NaN fails too: every comparison with NaN is False.
    if target is not None and not REQUEST_MIN_TARGET_SOC_PCT <= target <= REQUEST_MAX_TARGET_SOC_PCT:
        return f"target_soc_pct: must be between {REQUEST_MIN_TARGET_SOC_PCT:g} and {REQUEST_MAX_TARGET_SOC_PCT:g}"
    if energy is not None and not 0 < energy <= REQUEST_MAX_ENERGY_KWH:
        return f"energy_kwh: must be above 0 and at most {REQUEST_MAX_ENERGY_KWH:g}"
    if isinstance(request.priority, bool) or not isinstance(request.priority, int) or \
            not 0 <= request.priority <= REQUEST_MAX_PRIORITY:
        return f"priority: must be a whole number from 0 to {REQUEST_MAX_PRIORITY}"
    if request.departure.tzinfo is None or request.departure.utcoffset() is None:
        return "departure: needs a time zone"
    # Aware datetimes compare and subtract without overflow even at year 1 or 9999.
    if request.departure - now > REQUEST_MAX_AHEAD:
        return f"departure: must be at most {REQUEST_MAX_AHEAD.days} days ahead"
    return None


def check_request(request: ChargeRequest, now: datetime) -> None:
    """Raise ValueError("<field>: why") unless a new request keeps to the shared bounds
    and departs in the future; a request that passes can be stored and planned."""
    problem = request_problem(request, now)
    if problem is None and request.departure <= now:
        problem = "departure: must be in the future"
    if problem is not None:
        raise ValueError(problem)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def next_departure(now: datetime, schedule: dict[str, str | None], tz: tzinfo) -> datetime | None:
    """The first scheduled departure after now, looking one week ahead, in UTC."""
    local = now.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        clock = schedule.get(WEEKDAYS[day.weekday()])
        if clock is None:
            continue
        hh, mm = (int(part) for part in clock.split(":"))
        candidate = datetime(day.year, day.month, day.day, hh, mm, tzinfo=tz)
        if candidate > local:
            return candidate.astimezone(UTC)
    return None


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

    def end_boost(self, vehicle: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM boosts WHERE vehicle = ?", (vehicle,))

    def boosts(self, now: datetime) -> dict[str, datetime]:
        rows = self._db.execute("SELECT vehicle, until FROM boosts").fetchall()
        return {v: _time(u) for v, u in rows if _time(u) > now}


def effective_requests(settings: Settings, store: RequestStore, now: datetime) -> dict[str, ChargeRequest]:
    """The request in force per configured vehicle: an explicit open one within the bounds
    (one beyond them is ended), else the default from settings unless that default was
    already met (or the car left) before departure."""
    explicit = store.open_requests()
    out: dict[str, ChargeRequest] = {}
    for vehicle, config in settings.vehicles.items():
        if vehicle in explicit:
            problem = request_problem(explicit[vehicle], now)
            if problem is None:
                out[vehicle] = explicit[vehicle]
                continue
            # Stored before the bounds were checked (a departure in year 9999 failed every
            # plan): it ends, once, and the car's default applies as if it had been cancelled.
            store.end(explicit[vehicle], now, "out of bounds")
            logger.warning("{}: its stored request cannot be planned ({}); it ends and the car's default applies",
                           vehicle, problem)
        departure = next_departure(now, config.departures or settings.planning.departures, settings.site.tz)
        if departure is None or store.default_ended(vehicle, departure):
            continue
        target = config.target_soc_pct or settings.planning.default_target_soc_pct
        out[vehicle] = ChargeRequest(vehicle, departure, target, None, config.priority)
    return out
