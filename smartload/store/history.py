"""The history tables, in the same SQLite file as the requests (their own connection).

Every method is one transaction. WAL with synchronous=NORMAL: a committed transaction
survives the process being killed at any moment (it is in the WAL file); only a power
loss may drop the last few, which history can afford (requests use synchronous=FULL).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from smartload.domain import SocReading
from smartload.events import Event
from smartload.planner import Plan
from smartload.store.database import open_database
from smartload.store.energy import EXPORT, IMPORT, Accrual

_SCHEMA = """
CREATE TABLE IF NOT EXISTS soc_readings (
    id INTEGER PRIMARY KEY, vehicle TEXT NOT NULL, soc_pct REAL NOT NULL, source TEXT NOT NULL,
    measured_at TEXT NOT NULL, measured_at_known INTEGER NOT NULL, received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS soc_readings_received ON soc_readings (received_at);
CREATE TABLE IF NOT EXISTS plans (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL,
    solve_s REAL NOT NULL, cost_eur REAL NOT NULL, slots INTEGER NOT NULL, horizon_end TEXT,
    cars TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS plans_at ON plans (at);
CREATE TABLE IF NOT EXISTS writes (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    ok INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS writes_at ON writes (at);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, vehicle TEXT, text TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events (at);
CREATE TABLE IF NOT EXISTS energy (
    slot_start TEXT NOT NULL, basis TEXT NOT NULL, account TEXT NOT NULL,
    kwh REAL NOT NULL, eur REAL NOT NULL,
    PRIMARY KEY (slot_start, basis, account)
);
"""

_PURGED = {"soc_readings": "received_at", "plans": "at", "writes": "at", "events": "at", "energy": "slot_start"}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _z(text: str | None) -> str | None:
    """Stored times as the API shows every time: RFC 3339 with Z."""
    return None if text is None else text.replace("+00:00", "Z")


@dataclass
class Figures:
    """Energy and cost of one day on one basis. cost_eur: import cost minus export revenue."""

    import_kwh: float = 0.0
    import_eur: float = 0.0
    export_kwh: float = 0.0
    export_eur: float = 0.0
    cars: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def cost_eur(self) -> float:
        return self.import_eur - self.export_eur

    def add(self, account: str, kwh: float, eur: float) -> None:
        if account == IMPORT:
            self.import_kwh += kwh
            self.import_eur += eur
        elif account == EXPORT:
            self.export_kwh += kwh
            self.export_eur += eur
        else:
            car = self.cars.setdefault(account.removeprefix("car:"), {"kwh": 0.0, "eur": 0.0})
            car["kwh"] += kwh
            car["eur"] += eur


@dataclass
class DayHistory:
    day: date
    actual: Figures = field(default_factory=Figures)
    planned: Figures = field(default_factory=Figures)


class HistoryStore:
    def __init__(self, path: Path, retention_days: int) -> None:
        self.retention = timedelta(days=retention_days)
        self._db = open_database(path, _SCHEMA, synchronous="NORMAL")

    def close(self) -> None:
        self._db.close()

    # -- writing ------------------------------------------------------------------------

    def add_readings(self, readings: Iterable[SocReading]) -> None:
        rows = [(r.vehicle, r.soc_pct, r.source, _iso(r.measured_at), int(r.measured_at_known), _iso(r.received_at))
                for r in readings]
        with self._db:
            self._db.executemany(
                "INSERT INTO soc_readings (vehicle, soc_pct, source, measured_at, measured_at_known, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?)", rows)

    def add_plan(self, at: datetime, reason: str, plan: Plan) -> None:
        cars = {name: {"target_soc_pct": c.target_soc_pct, "final_soc_pct": c.final_soc_pct,
                       "departure": _z(_iso(c.departure)) if c.departure else None,
                       "shortfall_kwh": round(c.shortfall_kwh, 3), "energy_kwh": round(c.energy_charged_kwh, 3),
                       "cost_eur": round(c.cost_eur, 4)} for name, c in plan.cars.items()}
        end = plan.horizon_end
        with self._db:
            self._db.execute(
                "INSERT INTO plans (at, reason, status, solve_s, cost_eur, slots, horizon_end, cars)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (_iso(at), reason, plan.status, plan.solve_time_s, plan.cost_eur, len(plan.slots),
                 _iso(end) if end else None, json.dumps(cars)))

    def add_event(self, event: Event) -> None:
        data = dict(event.data)
        with self._db:
            self._db.execute("INSERT INTO events (at, kind, vehicle, text, data) VALUES (?, ?, ?, ?, ?)",
                             (_iso(event.at), event.kind, event.vehicle, event.text, json.dumps(data, default=str)))
            if "method" in data and "path" in data and event.kind in ("write", "error"):
                self._db.execute("INSERT INTO writes (at, method, path, ok, text) VALUES (?, ?, ?, ?, ?)",
                                 (_iso(event.at), data["method"], data["path"], int(event.kind == "write"),
                                  event.text))

    def add_energy(self, accruals: Iterable[Accrual]) -> None:
        rows = [(_iso(a.slot_start), a.basis, a.account, a.kwh, a.eur) for a in accruals]
        if not rows:
            return
        with self._db:
            self._db.executemany(
                "INSERT INTO energy (slot_start, basis, account, kwh, eur) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (slot_start, basis, account) DO UPDATE SET kwh = kwh + excluded.kwh,"
                " eur = eur + excluded.eur", rows)

    def purge(self, now: datetime) -> int:
        """Delete history older than the retention, and requests that ended and departed
        before it. Returns the number of rows deleted."""
        cutoff = _iso(now - self.retention)
        deleted = 0
        with self._db:
            for table, column in _PURGED.items():
                deleted += self._db.execute(f"DELETE FROM {table} WHERE {column} < ?", (cutoff,)).rowcount
            has_requests = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'requests'").fetchone()
            if has_requests:
                deleted += self._db.execute(
                    "DELETE FROM requests WHERE ended_at IS NOT NULL AND ended_at < ? AND departure < ?",
                    (cutoff, cutoff)).rowcount
        return deleted

    # -- reading ------------------------------------------------------------------------

    def events(self, limit: int = 100, kind: str | None = None, before: datetime | None = None) -> list[dict[str, Any]]:
        query, args = "SELECT at, kind, vehicle, text, data FROM events WHERE 1 = 1", []
        if kind is not None:
            query, args = query + " AND kind = ?", [*args, kind]
        if before is not None:
            query, args = query + " AND at < ?", [*args, _iso(before)]
        rows = self._db.execute(query + " ORDER BY at DESC, id DESC LIMIT ?", (*args, limit)).fetchall()
        return [{"at": _z(at), "kind": k, "vehicle": v, "text": t, "data": json.loads(d)} for at, k, v, t, d in rows]

    def readings(self, vehicle: str, since: datetime) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT soc_pct, source, measured_at, measured_at_known, received_at FROM soc_readings"
            " WHERE vehicle = ? AND received_at >= ? ORDER BY id", (vehicle, _iso(since))).fetchall()
        return [{"soc_pct": s, "source": src, "measured_at": _z(m), "measured_at_known": bool(k), "received_at": _z(r)}
                for s, src, m, k, r in rows]

    def plans(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT at, reason, status, solve_s, cost_eur, slots, horizon_end, cars FROM plans"
            " ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [{"at": _z(a), "reason": r, "status": st, "solve_s": s, "cost_eur": c, "slots": n, "horizon_end": _z(h),
                 "cars": json.loads(cars)} for a, r, st, s, c, n, h, cars in rows]

    def writes(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT at, method, path, ok, text FROM writes ORDER BY id DESC LIMIT ?",
                                (limit,)).fetchall()
        return [{"at": _z(a), "method": m, "path": p, "ok": bool(ok), "text": t} for a, m, p, ok, t in rows]

    def days(self, first: date, last: date, tz: tzinfo) -> list[DayHistory]:
        """Actual and planned figures per local day from first to last (inclusive)."""
        start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        out = {first + timedelta(days=n): DayHistory(first + timedelta(days=n)) for n in range((last - first).days + 1)}
        rows = self._db.execute(
            "SELECT slot_start, basis, account, kwh, eur FROM energy WHERE slot_start >= ? AND slot_start < ?",
            (_iso(start), _iso(end))).fetchall()
        for slot, basis, account, kwh, eur in rows:
            day = out.get(datetime.fromisoformat(slot).astimezone(tz).date())
            if day is not None:
                (day.actual if basis == "actual" else day.planned).add(account, kwh, eur)
        return list(out.values())
