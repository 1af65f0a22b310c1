"""Turns what happens in the pipeline into events a person follows: each one is logged as
a sentence and published on the event bus (dashboard, store, MQTT, notifications)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from loguru import logger
from reactivex import operators as ops
from reactivex.abc import DisposableBase, SchedulerBase
from reactivex.disposable import CompositeDisposable

from smartload.domain import ConnectionEdge, PollError, RefreshOutcome
from smartload.events import Event, EventBus
from smartload.graph import Graph
from smartload.sinks.actuator import NotApplied, Notice, Override, Write, WriteOutcome
from smartload.sinks.base import guarded
from smartload.sinks.sequencer import Handoff, RequestEnded
from smartload.streams.polling import Outage
from smartload.streams.problems import ProblemSeen, new_problems
from smartload.system import System
from smartload.views import handoff_message, wallbox_name

_WARNINGS = ("error", "outage", "override")
# A loadpoint's name in an event: evcc's title where the state is at hand (views.wallbox_name).
Names = Callable[[int], str]


def numbered(lp_id: int) -> str:
    return f"wallbox {lp_id}"


def edge_event(edge: ConnectionEdge, name: Names = numbered) -> Event:
    waited = (edge.at - edge.plugged_at).total_seconds()
    identified = f" (identified after {waited:.0f} s)" if waited > 0 else ""
    what = {"startup": "was already plugged in at", "moved": "moved to", "plugged": "plugged in at",
            "manual": "refresh asked for at"}
    text = f"{edge.vehicle} {what.get(edge.reason, edge.reason)} {name(edge.loadpoint_id)}{identified}"
    return Event(edge.at, "plug-in", text, edge.vehicle, {"loadpoint": edge.loadpoint_id, "reason": edge.reason})


def refresh_event(outcome: RefreshOutcome) -> Event:
    """A reading, a failure (a warning), or a refresh refused or skipped, with its reason
    (logged at INFO: a skip is the rules at work, not a fault)."""
    at, reading = outcome.finished_at or outcome.requested_at, outcome.reading
    data = {"status": outcome.status, "requested_at": outcome.requested_at.isoformat(),
            "reason": outcome.reason, "edge": outcome.edge_reason, "retry": outcome.retry}
    why = f": {outcome.reason}" if outcome.reason else ""
    if reading is not None:
        age_min = reading.age_s(at) / 60
        text = f"{outcome.vehicle} SoC {reading.soc_pct:.0f} % from {reading.source} (measured {age_min:.0f} min ago)"
        return Event(at, "refresh", text, outcome.vehicle, {**data, "soc_pct": reading.soc_pct})
    if outcome.status == "failed":
        return Event(at, "error", f"{outcome.vehicle} SoC refresh failed: {outcome.error}"
                     f"{'; ' + outcome.reason if outcome.reason else ''}", outcome.vehicle, data)
    return Event(at, "refresh", f"{outcome.vehicle} SoC refresh skipped ({outcome.status.replace('_', ' ')}){why}",
                 outcome.vehicle, data)


def outage_event(url: str, outage: Outage) -> Event:
    if outage.ended_at is None:
        return Event(outage.started_at, "outage", f"evcc at {url} unreachable ({outage.first_error}); retrying")
    down = (outage.ended_at - outage.started_at).total_seconds()
    return Event(outage.ended_at, "outage",
                 f"evcc at {url} reachable again after {down:.0f} s ({outage.failed_polls} failed polls)",
                 data={"down_s": down})


def parse_error_event(error: PollError) -> Event:
    return Event(error.at, "error", f"evcc answered: {error.message}")


def problem_event(seen: ProblemSeen) -> Event:
    problem = seen.problem
    return Event(seen.at, "error", f"evcc sent an impossible value: {problem.path} = {problem.value} (ignored)",
                 data={"path": problem.path, "value": problem.value})


def handoff_event(handoff: Handoff, message: str) -> Event:
    return Event(handoff.at, "handoff", f"handoff: {message}", handoff.vehicle,
                 {"wallbox": handoff.wallbox_id, "by": handoff.by.isoformat(), "replaces": handoff.replaces})


def ended_event(ended: RequestEnded) -> Event:
    return Event(ended.at, "request", f"{ended.vehicle}: request ended ({ended.reason})", ended.vehicle,
                 {"reason": ended.reason})


def write_event(write: Write, at: datetime, error: str | None) -> Event:
    if error is None:
        return Event(at, "write", f"evcc write {write.method} {write.path} ({write.reason})",
                     data={"method": write.method, "path": write.path})
    return Event(at, "error", f"evcc write {write.method} {write.path} failed: {error}",
                 data={"method": write.method, "path": write.path})


def override_event(override: Override, name: Names = numbered) -> Event:
    setting = override.key.split(".", 1)[-1]
    return Event(override.at, "override",
                 f"{name(override.loadpoint_id)}: {setting} changed in evcc to {override.observed} "
                 f"(smartload wrote {override.written}); paused until the car unplugs",
                 data={"loadpoint": override.loadpoint_id, "setting": setting})


def notice_event(notice: Notice, name: Names = numbered) -> Event:
    """What the actuator noticed about evcc: a person's change, a write evcc did not
    apply, or a new session at a loadpoint."""
    if isinstance(notice, Override):
        return override_event(notice, name)
    if isinstance(notice, NotApplied):
        return Event(notice.at, "error",
                     f"evcc did not apply {notice.key} = {notice.written} (it still shows {notice.observed}); "
                     "not sent again while the plan asks for it",
                     data={"setting": notice.key, "written": notice.written, "observed": notice.observed})
    before, after = notice.before or "a guest", notice.after or "a car being identified"
    return Event(notice.at, "plug-in",
                 f"{name(notice.loadpoint_id)}: {before} replaced by {after} between two polls; "
                 "its settings are written again for the new session",
                 data={"loadpoint": notice.loadpoint_id, "before": notice.before, "after": notice.after})


def tell(bus: EventBus, event: Event) -> None:
    (logger.warning if event.kind in _WARNINGS else logger.info)("{}", event.text)
    bus.publish(event)


def _write_told(bus: EventBus, outcome: WriteOutcome) -> None:
    write = outcome.write
    if not outcome.sent:
        return  # observe mode: the actuator logged it
    if write.kind == "keepalive" and outcome.error is None:
        # evcc's external battery mode lasts 60 s: re-sending it changes nothing a
        # person follows, so it is no event and no INFO line.
        logger.debug("evcc keep-alive {} {}", write.method, write.path)
        return
    tell(bus, write_event(write, outcome.at, outcome.error))


def narrate(system: System, url: str) -> DisposableBase:
    """Tell what the system does and what it sees (narrate_graph)."""
    bus = system.bus

    def name(lp_id: int) -> str:
        return wallbox_name(system.live.state, lp_id)

    return CompositeDisposable(
        system.handoffs.subscribe(lambda h: tell(bus, handoff_event(h, handoff_message(system, h)))),
        system.requests_ended.subscribe(lambda e: tell(bus, ended_event(e))),
        system.notices.subscribe(lambda n: tell(bus, notice_event(n, name)), scheduler=system.scheduler),
        system.writes.subscribe(guarded("narrate", lambda w: _write_told(bus, w))),
        narrate_graph(system.graph, bus, url, system.scheduler, name),
    )


def narrate_graph(graph: Graph, bus: EventBus, url: str, scheduler: SchedulerBase,
                  name: Names = numbered) -> DisposableBase:
    """Tell what the graph sees: plug-ins, refreshes, outages, evcc's parse errors and
    impossible values."""
    def is_parse(error: PollError) -> bool:
        return error.kind == "parse"

    def message(error: PollError) -> str:
        return error.message

    parse_errors = graph.errors.pipe(ops.filter(is_parse), ops.distinct_until_changed(message))
    return CompositeDisposable(
        graph.edges.subscribe(lambda e: tell(bus, edge_event(e, name)), scheduler=scheduler),
        graph.refreshes.subscribe(lambda o: tell(bus, refresh_event(o)), scheduler=scheduler),
        graph.outages.subscribe(lambda o: tell(bus, outage_event(url, o)), scheduler=scheduler),
        parse_errors.subscribe(lambda e: tell(bus, parse_error_event(e)), scheduler=scheduler),
        new_problems(graph.states).subscribe(lambda p: tell(bus, problem_event(p)), scheduler=scheduler),
    )
