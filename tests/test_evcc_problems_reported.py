"""An impossible value evcc sends is told once per field, until its value changes or it
goes away and comes back: the problems stream and its warning event."""

from __future__ import annotations

import reactivex as rx
from loguru import logger
from reactivex.scheduler import HistoricalScheduler

from smartload.domain import SiteState, ValueProblem
from smartload.events import Event, EventBus
from smartload.graph import Graph
from smartload.narrate import narrate_graph, problem_event, tell
from smartload.streams.problems import ProblemSeen, new_problems
from tests.builders import T0, at
from tests.timeline import timeline

MAX = ValueProblem("loadpoints[1].maxCurrent", "-16")
SOC = ValueProblem("loadpoints[0].vehicleSoc", "140")


def polls(*problems: tuple[ValueProblem, ...]) -> list[SiteState]:
    return [SiteState(at=at(10 * i), problems=found) for i, found in enumerate(problems)]


def seen(states: list[SiteState]) -> list[tuple[float, str, str]]:
    scheduler = HistoricalScheduler(initial_clock=T0)
    out: list[ProblemSeen] = []
    new_problems(timeline([(s.at, s) for s in states])).subscribe(out.append, scheduler=scheduler)
    scheduler.start()
    return [((p.at - T0).total_seconds(), p.problem.path, p.problem.value) for p in out]


def test_each_problem_is_told_once_while_it_stays() -> None:
    assert seen(polls((), (MAX,), (MAX,), (MAX, SOC), (SOC, MAX), (MAX,))) == [
        (10, "loadpoints[1].maxCurrent", "-16"),
        (30, "loadpoints[0].vehicleSoc", "140"),
    ]


def test_a_new_value_of_the_same_field_is_told_again() -> None:
    worse = ValueProblem("loadpoints[1].maxCurrent", "-32")
    assert seen(polls((MAX,), (worse,), (worse,), (MAX,))) == [
        (0, "loadpoints[1].maxCurrent", "-16"),
        (10, "loadpoints[1].maxCurrent", "-32"),
        (30, "loadpoints[1].maxCurrent", "-16"),
    ]


def test_a_problem_that_went_away_and_came_back_is_told_again() -> None:
    assert seen(polls((MAX,), (), (), (MAX,), (MAX,))) == [
        (0, "loadpoints[1].maxCurrent", "-16"),
        (30, "loadpoints[1].maxCurrent", "-16"),
    ]


def test_each_subscription_has_its_own_memory() -> None:
    states = polls((MAX,), (MAX,))
    assert seen(states) == seen(states) == [(0, "loadpoints[1].maxCurrent", "-16")]


def test_the_event_is_a_warning_that_names_field_and_value() -> None:
    event = problem_event(ProblemSeen(at(10), MAX))
    assert event == Event(at(10), "error", "evcc sent an impossible value: loadpoints[1].maxCurrent = -16 (ignored)",
                          data={"path": "loadpoints[1].maxCurrent", "value": "-16"})
    lines: list[tuple[str, str]] = []
    sink = logger.add(lambda m: lines.append((m.record["level"].name, m.record["message"])), level=0)
    try:
        tell(EventBus(), event)
    finally:
        logger.remove(sink)
    assert lines == [("WARNING", "evcc sent an impossible value: loadpoints[1].maxCurrent = -16 (ignored)")]


def test_narrate_publishes_each_problem_once_on_the_bus() -> None:
    states = polls((MAX,), (MAX,), (MAX, SOC))
    empty = rx.empty()
    graph = Graph(polls=empty, states=timeline([(s.at, s) for s in states]), errors=empty, outages=empty,
                  edges=empty, refreshes=empty, evcc_socs=empty, socs=empty, tariffs=empty, snapshots=empty)
    bus, events = EventBus(), []
    bus.stream.subscribe(events.append)
    scheduler = HistoricalScheduler(initial_clock=T0)
    narrate_graph(graph, bus, "http://evcc.local:7070", scheduler)
    scheduler.start()
    assert [(e.at, e.kind, e.text) for e in events] == [
        (at(0), "error", "evcc sent an impossible value: loadpoints[1].maxCurrent = -16 (ignored)"),
        (at(20), "error", "evcc sent an impossible value: loadpoints[0].vehicleSoc = 140 (ignored)"),
    ]
