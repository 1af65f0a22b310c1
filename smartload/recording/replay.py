"""Recordings read back and replayed through the composed system in virtual time."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import DisposableBase, ObserverBase, SchedulerBase
from reactivex.disposable import CompositeDisposable, Disposable
from reactivex.scheduler import HistoricalScheduler

from smartload.compose import Ports, compose
from smartload.domain import Poll, PollError, Snapshot
from smartload.evcc.state import parse_recording_line
from smartload.recording.decision_log import DecisionLogSink
from smartload.recording.recorder import FORMAT, open_text
from smartload.recording.records import (
    edge_record,
    iso,
    not_applied_record,
    override_record,
    refresh_record,
    snapshot_record,
)
from smartload.settings import FakeProviderSettings, Settings
from smartload.sinks.actuator import Write, WriteOutcome
from smartload.store.database import Database
from smartload.store.requests import RequestStore
from smartload.system import System
from smartload.vehicles.registry import build_providers


class RecordingError(ValueError):
    """The file is not a smartload recording."""


@dataclass(frozen=True)
class Recording:
    path: Path
    header: Mapping[str, Any]
    first_at: datetime


def _lines(path: Path) -> Iterator[str]:
    with open_text(path, "r") as handle:
        next(handle, None)
        for line in handle:
            if line.strip():
                yield line


def open_recording(path: Path) -> Recording:
    try:
        with open_text(path, "r") as handle:
            head = json.loads(handle.readline() or "null")
    except (OSError, ValueError) as exc:
        raise RecordingError(f"{path}: cannot read a recording header ({exc})") from exc
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise RecordingError(f"{path}: not a smartload recording (first line lacks format {FORMAT!r})")
    first = next(_lines(path), None)
    if first is None:
        raise RecordingError(f"{path}: the recording holds no polls")
    return Recording(path, head, parse_recording_line(first)[0])


def recording_source(path: Path) -> Observable[Poll]:
    """Emit each recorded poll at its own time on the subscribe scheduler.

    One line is parsed ahead and scheduled at a time, so memory stays flat however long
    the recording is."""

    def subscribe(observer: ObserverBase[Poll], scheduler: SchedulerBase | None = None) -> Disposable:
        assert scheduler is not None, "a recording replays on the scheduler it is subscribed with"
        lines = _lines(path)
        stopped = [False]

        def schedule_next() -> None:
            line = next(lines, None)
            if line is None:
                scheduler.schedule(lambda *_: observer.on_completed())
                return
            at, poll = parse_recording_line(line)

            def emit(*_: Any) -> None:
                if stopped[0]:
                    return
                observer.on_next(poll)
                schedule_next()

            scheduler.schedule_absolute(at, emit)

        schedule_next()
        return Disposable(lambda: stopped.__setitem__(0, True))

    return rx.create(subscribe)


@dataclass
class ReplayCollector:
    """Collects what the replay report holds, as the system emits it."""

    snapshots: list[dict[str, Any]] = field(default_factory=list)
    refreshes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    outages: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0
    name: str = "replay-report"

    def on_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot_record(snapshot))

    def close(self) -> None:
        return None

    def attach(self, system: System) -> DisposableBase:
        graph, scheduler = system.graph, system.scheduler

        def count(_: Poll) -> None:
            self.polls += 1

        def error(e: PollError) -> None:
            self.errors.append({"at": iso(e.at), "kind": e.kind, "message": e.message})

        def act(outcome: WriteOutcome) -> None:
            write = outcome.write
            self.actions.append({"at": iso(outcome.at), "method": write.method, "path": write.path,
                                 "reason": write.reason})

        return CompositeDisposable(
            system.handoffs.subscribe(lambda h: self.handoffs.append(
                {"at": iso(h.at), "wallbox": h.wallbox_id, "vehicle": h.vehicle, "by": iso(h.by),
                 "replaces": h.replaces})),
            system.writes.subscribe(act),
            graph.polls.subscribe(count, scheduler=scheduler),
            graph.errors.subscribe(error, scheduler=scheduler),
            graph.edges.subscribe(lambda e: self.edges.append(edge_record(e)), scheduler=scheduler),
            graph.refreshes.subscribe(lambda o: self.refreshes.append(refresh_record(o)), scheduler=scheduler),
            graph.outages.subscribe(
                lambda o: self.outages.append(
                    {"started_at": iso(o.started_at), "ended_at": iso(o.ended_at),
                     "failed_polls": o.failed_polls, "first_error": o.first_error}
                ),
                scheduler=scheduler,
            ),
        )

    def report(self, recording: Recording) -> dict[str, Any]:
        return {
            "recording": str(recording.path),
            "header": dict(recording.header),
            "polls": self.polls,
            "edges": self.edges,
            "refreshes": self.refreshes,
            "ticks": self.snapshots,
            "actions": self.actions,
            "handoffs": self.handoffs,
            "outages": self.outages,
            "errors": self.errors,
        }


def settings_for(recording: Recording, settings: Settings, explicit_settings: bool) -> Settings:
    """A recording carries the vehicles it was made with; they apply unless the user named
    a settings file, so a recording replays the same on any machine."""
    recorded = recording.header.get("settings")
    if explicit_settings or not isinstance(recorded, dict):
        return settings
    return Settings.model_validate({**settings.model_dump(), **recorded})


def _offline(settings: Settings) -> Settings:
    """Providers that need a live network become the fake: a replay calls no cloud."""
    vehicles = {
        v: c if c.provider.type in ("evcc", "fake")
        else c.model_copy(update={"provider": FakeProviderSettings(type="fake")})
        for v, c in settings.vehicles.items()
    }
    return settings.model_copy(update={"vehicles": vehicles})


def _nothing_sent(write: Write) -> Observable[str | None]:
    raise AssertionError(f"a replay must not send {write.method} {write.path}")


def replay_with_settings(
    recording: Recording, settings: Settings, explicit_settings: bool, store_path: Path | None = None
) -> dict[str, Any]:
    """Replay a recording through the composed system on a HistoricalScheduler; return the
    report. The actuator observes: the writes it would have made become the report's
    actions, since a recording cannot answer them."""
    effective = settings_for(recording, settings, explicit_settings)
    effective = effective.model_copy(update={"control": effective.control.model_copy(update={"mode": "observe"})})
    scheduler = HistoricalScheduler(initial_clock=recording.first_at)
    polls = recording_source(recording.path).pipe(ops.share())
    db = Database.open(store_path or Path(":memory:"))
    store = RequestStore(db)
    collector = ReplayCollector()
    offline = _offline(effective)
    # Typed as objects: the end is marked by a None, which is no Poll.
    seen: Observable[object] = polls
    ended: Observable[object] = seen.pipe(ops.ignore_elements(), ops.default_if_empty(None))
    system = compose(effective, Ports(
        scheduler=scheduler, polls=polls, write=_nothing_sent, requests=store,
        providers=lambda book: build_providers(offline, book),
        until=ended,
        sinks=[collector, DecisionLogSink()]))
    watching = collector.attach(system)
    try:
        scheduler.start()
    finally:
        watching.dispose()
        system.dispose()
        db.close()
    planning = system.planning
    report = collector.report(recording)
    report["overrides"] = [override_record(o) for o in planning.actuator.overrides]
    report["not_applied"] = [not_applied_record(n) for n in planning.actuator.not_applied]
    report["requests_ended"] = [{"at": iso(e.at), "vehicle": e.vehicle, "reason": e.reason} for e in planning.ended]
    return report
