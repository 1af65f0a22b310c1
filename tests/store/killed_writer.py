"""Child process of the kill -9 tests.

stream PATH: commits requests (and history between them) as fast as it can and prints
each request's id only after its commit returned; the parent kills it at some moment.
supersede PATH: stores a request for zoe, prints its id, then replaces it and kills
itself with SIGKILL just before the replacement's INSERT runs (a moment chosen exactly).
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smartload.domain import SocReading
from smartload.events import Event
from smartload.requests import ChargeRequest
from smartload.store.database import Database
from smartload.store.energy import Accrual
from smartload.store.history import HistoryStore
from smartload.store.requests import RequestStore

VEHICLES = ("zoe", "ioniq", "golf")
NOW = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)


def stream(path: Path) -> None:
    db = Database.open(path)
    requests = RequestStore(db)
    history = HistoryStore(db, retention_days=90)
    i = 0
    while True:
        i += 1
        vehicle = VEHICLES[i % len(VEHICLES)]
        at = NOW + timedelta(seconds=i)
        history.add_readings([SocReading(vehicle, float(i % 100), "cloud", at, at)])
        stored = requests.add(ChargeRequest(vehicle, at + timedelta(hours=8), float(i % 100) + 1, source="api"), at)
        # One write per confirmation: under PYTHONUNBUFFERED print() sends each of its
        # pieces as a write of its own, and a kill between them leaves half a line.
        sys.stdout.write(f"{stored.id} {vehicle} {i % 100 + 1}\n")
        sys.stdout.flush()
        history.add_event(Event(at, "request", f"{vehicle}: request {stored.id}", vehicle, {"id": stored.id}))
        history.add_energy([Accrual(at, "actual", "import", 0.01, 0.003)])


def supersede(path: Path) -> None:
    db = Database.open(path)
    requests = RequestStore(db)
    first = requests.add(ChargeRequest("zoe", NOW + timedelta(hours=8), 80.0, source="api"), NOW)
    print(first.id, flush=True)

    def die_before_insert(statement: str) -> None:
        if statement.startswith("INSERT INTO requests"):
            os.kill(os.getpid(), signal.SIGKILL)

    db._connection.set_trace_callback(die_before_insert)
    requests.add(ChargeRequest("zoe", NOW + timedelta(hours=9), 90.0, source="api"), NOW + timedelta(minutes=1))


if __name__ == "__main__":
    {"stream": stream, "supersede": supersede}[sys.argv[1]](Path(sys.argv[2]))
