"""The history tables, in the same SQLite file as the requests (the process's one Database).

Every method is one transaction. WAL with synchronous=FULL, as for every table in the file:
a committed transaction survives the process being killed at any moment and a power loss.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from smartload.domain import SocReading
from smartload.events import Event
from smartload.store.database import Database, from_text, to_text
from smartload.store.energy import EXPORT, IMPORT, Accrual
from smartload.store.rows import EventRow, PlanRow, ReadingRow, WriteRow

if TYPE_CHECKING:
    from smartload.planner import Plan

_PURGED = {"soc_readings": "received_at", "plans": "at", "writes": "at", "events": "at", "energy": "slot_start"}


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
    """The history tables of the process's Database; `purge` also drops old requests."""

    def __init__(self, db: Database, retention_days: int) -> None:
        self.retention = timedelta(days=retention_days)
        self._db = db

    # -- writing ------------------------------------------------------------------------

    def add_readings(self, readings: Iterable[SocReading]) -> None:
        rows = [(r.vehicle, r.soc_pct, r.source, to_text(r.measured_at), int(r.measured_at_known),
                 to_text(r.received_at)) for r in readings]
        with self._db.transaction() as tx:
            tx.executemany(
                "INSERT INTO soc_readings (vehicle, soc_pct, source, measured_at, measured_at_known, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?)", rows)

    def add_plan(self, at: datetime, reason: str, plan: Plan) -> None:
        cars = {name: {"target_soc_pct": c.target_soc_pct, "final_soc_pct": c.final_soc_pct,
                       "departure": _z(to_text(c.departure)) if c.departure else None,
                       "shortfall_kwh": round(c.shortfall_kwh, 3), "energy_kwh": round(c.energy_charged_kwh, 3),
                       "cost_eur": round(c.cost_eur, 4)} for name, c in plan.cars.items()}
        end = plan.horizon_end
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO plans (at, reason, status, solve_s, cost_eur, slots, horizon_end, cars)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (to_text(at), reason, plan.status, plan.solve_time_s, plan.cost_eur, len(plan.slots),
                 to_text(end) if end else None, json.dumps(cars)))

    def add_event(self, event: Event) -> None:
        data = dict(event.data)
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO events (at, kind, vehicle, text, data) VALUES (?, ?, ?, ?, ?)",
                       (to_text(event.at), event.kind, event.vehicle, event.text, json.dumps(data, default=str)))
            if "method" in data and "path" in data and event.kind in ("write", "error"):
                tx.execute("INSERT INTO writes (at, method, path, ok, text) VALUES (?, ?, ?, ?, ?)",
                           (to_text(event.at), data["method"], data["path"], int(event.kind == "write"), event.text))

    def add_energy(self, accruals: Iterable[Accrual]) -> None:
        rows = [(to_text(a.slot_start), a.basis, a.account, a.kwh, a.eur) for a in accruals]
        if not rows:
            return
        with self._db.transaction() as tx:
            tx.executemany(
                "INSERT INTO energy (slot_start, basis, account, kwh, eur) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (slot_start, basis, account) DO UPDATE SET kwh = kwh + excluded.kwh,"
                " eur = eur + excluded.eur", rows)

    def purge(self, now: datetime) -> int:
        """Delete history older than the retention, and requests that ended and departed
        before it. Returns the number of rows deleted."""
        cutoff = to_text(now - self.retention)
        deleted = 0
        with self._db.transaction() as tx:
            for table, column in _PURGED.items():
                deleted += tx.execute(f"DELETE FROM {table} WHERE {column} < ?", (cutoff,)).rowcount
            deleted += tx.execute(
                "DELETE FROM requests WHERE ended_at IS NOT NULL AND ended_at < ? AND departure < ?",
                (cutoff, cutoff)).rowcount
        return deleted

    # -- reading ------------------------------------------------------------------------

    def events(self, limit: int = 100, kind: str | None = None, before: datetime | None = None) -> list[EventRow]:
        query, args = "SELECT at, kind, vehicle, text, data FROM events WHERE 1 = 1", list[Any]()
        if kind is not None:
            query, args = query + " AND kind = ?", [*args, kind]
        if before is not None:
            query, args = query + " AND at < ?", [*args, to_text(before)]
        rows = self._db.query(query + " ORDER BY at DESC, id DESC LIMIT ?", (*args, limit))
        return [{"at": _z(at), "kind": k, "vehicle": v, "text": t, "data": json.loads(d)} for at, k, v, t, d in rows]

    def readings(self, vehicle: str, since: datetime) -> list[ReadingRow]:
        rows = self._db.query(
            "SELECT soc_pct, source, measured_at, measured_at_known, received_at FROM soc_readings"
            " WHERE vehicle = ? AND received_at >= ? ORDER BY id", (vehicle, to_text(since)))
        return [{"soc_pct": s, "source": src, "measured_at": _z(m), "measured_at_known": bool(k), "received_at": _z(r)}
                for s, src, m, k, r in rows]

    def plans(self, limit: int = 50) -> list[PlanRow]:
        rows = self._db.query(
            "SELECT at, reason, status, solve_s, cost_eur, slots, horizon_end, cars FROM plans"
            " ORDER BY id DESC LIMIT ?", (limit,))
        return [{"at": _z(a), "reason": r, "status": st, "solve_s": s, "cost_eur": c, "slots": n, "horizon_end": _z(h),
                 "cars": json.loads(cars)} for a, r, st, s, c, n, h, cars in rows]

    def writes(self, limit: int = 100) -> list[WriteRow]:
        rows = self._db.query("SELECT at, method, path, ok, text FROM writes ORDER BY id DESC LIMIT ?", (limit,))
        return [{"at": _z(a), "method": m, "path": p, "ok": bool(ok), "text": t} for a, m, p, ok, t in rows]

    def days(self, first: date, last: date, tz: tzinfo) -> list[DayHistory]:
        """Actual and planned figures per local day from first to last (inclusive)."""
        start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        out = {first + timedelta(days=n): DayHistory(first + timedelta(days=n)) for n in range((last - first).days + 1)}
        rows = self._db.query(
            "SELECT slot_start, basis, account, kwh, eur FROM energy WHERE slot_start >= ? AND slot_start < ?",
            (to_text(start), to_text(end)))
        for slot, basis, account, kwh, eur in rows:
            day = out.get(from_text(slot).astimezone(tz).date())
            if day is not None:
                (day.actual if basis == "actual" else day.planned).add(account, kwh, eur)
        return list(out.values())
