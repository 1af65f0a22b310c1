"""What the event log reports, counted for the metrics: evcc writes by result, errors by
where they arose, and each car's SoC refreshes today. Kept apart from metrics.py, which
loads prometheus_client, so the service counts from its first poll on while the web
server is still loading."""

from __future__ import annotations

from datetime import date, datetime

from smartload.events import Event
from smartload.system import System
from smartload.timefmt import parse_iso

_CALLED = ("ok", "failed", "unsupported")  # refresh outcomes that spent a call of the budget


class Tally:
    """Counts what the event log reports."""

    def __init__(self, system: System) -> None:
        self._tz = system.settings.site.tz
        self.writes = {"ok": 0, "failed": 0}
        self.errors: dict[str, int] = {}
        self._refreshes: dict[str, tuple[date, int]] = {}

    def on_event(self, event: Event) -> None:
        data = event.data
        if event.kind == "write":
            self.writes["ok"] += 1
        elif event.kind == "error":
            where = "write" if "method" in data else "refresh" if "status" in data else "evcc"
            if where == "write":
                self.writes["failed"] += 1
            self.errors[where] = self.errors.get(where, 0) + 1
        elif event.kind == "outage" and "down_s" not in data:
            self.errors["outage"] = self.errors.get("outage", 0) + 1
        if event.vehicle is not None and data.get("status") in _CALLED and "requested_at" in data:
            day = parse_iso(str(data["requested_at"])).astimezone(self._tz).date()
            seen_day, count = self._refreshes.get(event.vehicle, (day, 0))
            self._refreshes[event.vehicle] = (day, count + 1 if seen_day == day else 1)

    def refreshes_today(self, vehicle: str, now: datetime) -> int:
        day, count = self._refreshes.get(vehicle, (None, 0))
        return count if day == now.astimezone(self._tz).date() else 0
