"""What learning driver habits costs a plan: the habit watch's part of each planner input,
against the whole planner input built without it in the same run, and the learner's own
cost per trip.

    python benchmarks/habits_overhead.py [--rounds 2000]

The site: two cars on one wallbox and a 36 h price horizon (144 slots); ioniq is on the
road and expected home (its habits learned from four weeks of trips), zoe is plugged in.
Each round builds the planner input without the habit watch (the baseline), then does what
the watch adds to it for each car (request_seen, plan_car: the expected arrival). Printed:
p50/p95 of both in ms, their ratio, and the learner's time per trip (a departure and an
arrival) in µs. The target: the watch's p95 at most 1 ms, nothing next to a plan's solve
time (tens to hundreds of ms); MISSED otherwise.
"""

from __future__ import annotations

import argparse
import statistics
from datetime import UTC, datetime, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

import numpy as np

from smartload.domain import LoadpointState, Rate, SiteState, Snapshot, SocReading, Tariffs
from smartload.habits import HabitBook
from smartload.settings import Settings
from smartload.sinks.habit_watch import HabitWatch, cold_starts
from smartload.sinks.house_profile import HouseProfile
from smartload.sinks.sequencer import Sequencer
from smartload.store.database import Database
from smartload.store.requests import RequestStore

TZ = ZoneInfo("Europe/Berlin")
TARGET_MS = 1.0


def settings() -> Settings:
    weekdays = {d: "07:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    return Settings.model_validate({"site": {"timezone": "Europe/Berlin"}, "vehicles": {
        "zoe": {"capacity_kwh": 52, "target_soc_pct": 80, "departures": weekdays},
        "ioniq": {"capacity_kwh": 77, "target_soc_pct": 80, "departures": weekdays}}})


def state(at: datetime, vehicle: str | None) -> SiteState:
    return SiteState(at=at, loadpoints=(LoadpointState(id=1, connected=vehicle is not None, vehicle_name=vehicle,
                                                       phases_configured=3, min_current_a=6, max_current_a=16),))


def learned_book(config: Settings, start: datetime) -> tuple[HabitBook, float]:
    """Four weeks of ioniq's weekday trips; returns the book and the µs per trip."""
    book = HabitBook(TZ, cold=cold_starts(config))
    times = []
    for day in range(28):
        at = start + timedelta(days=day)
        if at.astimezone(TZ).weekday() >= 5:
            continue
        began = perf_counter()
        book.departed("ioniq", at + timedelta(hours=5, minutes=day % 20), 80.0, at + timedelta(hours=6))
        book.arrived("ioniq", at + timedelta(hours=16, minutes=day % 30), 62.0)
        times.append(perf_counter() - began)
    return book, statistics.median(times) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    config = settings()
    start = datetime(2024, 2, 5, tzinfo=TZ).astimezone(UTC)  # a Monday
    book, per_trip_us = learned_book(config, start)
    now = start + timedelta(days=28, hours=9)
    book.departed("ioniq", now - timedelta(hours=3), 80.0, None)
    rates = [Rate(now + timedelta(hours=h), now + timedelta(hours=h + 1), 0.2 + 0.01 * (h % 7)) for h in range(36)]
    socs = {"zoe": SocReading("zoe", 50.0, "cloud", now, now), "ioniq": SocReading("ioniq", 80.0, "cloud", now, now)}
    snapshot = Snapshot(now, state(now, "zoe"), socs, Tariffs(grid=rates))
    with Database.open(":memory:") as db:
        store = RequestStore(db)
        plain = Sequencer(config, store, HouseProfile(TZ, 500))
        plain.observe_state(snapshot.state)  # type: ignore[arg-type]
        watch = HabitWatch(book, enabled=True)
        requests = plain.requests(now)
        timings: dict[str, list[float]] = {"planner input": [], "habit watch": []}
        for _ in range(args.rounds):
            began = perf_counter()
            inputs = plain.planner_input(snapshot, requests, {})
            timings["planner input"].append(perf_counter() - began)
            assert inputs is not None
            began = perf_counter()
            cars = []
            for car in inputs.cars:
                watch.request_seen(car.name, requests[car.name].departure, car.wallbox_id is not None, now)
                cars.append(watch.plan_car(car, now))
            timings["habit watch"].append(perf_counter() - began)
        ioniq = next(c for c in cars if c.name == "ioniq")
        assert ioniq.arrival_probability is not None, "ioniq should be expected home"
    p95 = {name: float(np.percentile(t, 95)) * 1e3 for name, t in timings.items()}
    for name, t in timings.items():
        print(f"{name:>13}: p50 {statistics.median(t) * 1e3:.3f} ms, p95 {p95[name]:.3f} ms")
    watch_ms = p95["habit watch"]
    print(f"expected ioniq home at {ioniq.available_from} with {ioniq.soc_pct:.1f} %")
    print(f"learner: {per_trip_us:.1f} µs per trip (departure and arrival)")
    print(f"habit watch p95 {watch_ms:.3f} ms, ratio to the planner input's p95 "
          f"{watch_ms / p95['planner input']:.4f} (target <= {TARGET_MS} ms): "
          f"{'met' if watch_ms <= TARGET_MS else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
