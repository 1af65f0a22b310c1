"""Marble-style tests of the connection-edge stream on a HistoricalScheduler."""

from __future__ import annotations

from reactivex import Observable
from reactivex.scheduler import HistoricalScheduler

from smartload.domain import ConnectionEdge, SiteState
from smartload.streams.edges import connection_edges
from tests.builders import T0, at, lp, state
from tests.timeline import timeline


def run(states: list[SiteState], **kwargs: object) -> list[ConnectionEdge]:
    scheduler = HistoricalScheduler(initial_clock=T0)
    out: list[ConnectionEdge] = []
    source: Observable[SiteState] = timeline([(s.at, s) for s in states])
    connection_edges(source, **kwargs).subscribe(out.append, scheduler=scheduler)  # type: ignore[arg-type]
    scheduler.start()
    return out


def test_false_to_true_emits_one_plugged_edge_at_the_first_poll_showing_it():
    edges = run([
        state(0, lp(1)),
        state(10, lp(1)),
        state(20, lp(1, "a", True)),
        state(30, lp(1, "a", True)),
        state(40, lp(1)),
        state(50, lp(1, "a", True)),
    ])
    assert [(e.vehicle, e.at, e.reason, e.loadpoint_id) for e in edges] == [
        ("a", at(20), "plugged", 1),
        ("a", at(50), "plugged", 1),
    ]


def test_car_already_plugged_in_at_start_up_gets_a_startup_edge():
    edges = run([state(0, lp(1, "b", True)), state(10, lp(1, "b", True))])
    assert [(e.vehicle, e.at, e.reason) for e in edges] == [("b", at(0), "startup")]


def test_first_poll_of_each_group_is_not_lost():
    # Two cars appear in the same first poll on two loadpoints: both groups see their first item.
    edges = run([state(0, lp(1, "a", True), lp(2, "b", True))])
    assert sorted((e.vehicle, e.loadpoint_id, e.reason) for e in edges) == [("a", 1, "startup"), ("b", 2, "startup")]


def test_move_between_loadpoints_is_an_edge():
    edges = run([state(0, lp(1, "a", True), lp(2)), state(10, lp(1), lp(2, "a", True))])
    assert [(e.reason, e.loadpoint_id, e.at) for e in edges] == [("startup", 1, at(0)), ("moved", 2, at(10))]


def test_identification_in_progress_defers_the_edge_and_keeps_plug_time():
    edges = run([
        state(0, lp(1)),
        state(10, lp(1, "", True, detecting=True)),
        state(20, lp(1, "", True, detecting=True)),
        state(30, lp(1, "a", True)),
    ])
    assert [(e.vehicle, e.at, e.plugged_at, e.reason) for e in edges] == [("a", at(30), at(10), "plugged")]


def test_guest_vehicle_produces_no_edge():
    edges = run([state(0, lp(1)), state(10, lp(1, "", True)), state(20, lp(1, "", True)), state(30, lp(1))])
    assert edges == []


def test_evcc_names_map_to_smartload_ids_and_known_ids_are_tracked():
    edges = run(
        [state(0, lp(1), vehicles=()), state(10, lp(1, "db:69", True), vehicles=())],
        names={"db:69": "ioniq"},
        known=("ioniq",),
    )
    assert [(e.vehicle, e.reason) for e in edges] == [("ioniq", "plugged")]


def test_unknown_car_first_seen_later_counts_as_plugged_not_startup():
    edges = run([state(0, lp(1), vehicles=()), state(10, lp(1, "x", True), vehicles=())])
    assert [(e.vehicle, e.reason) for e in edges] == [("x", "plugged")]


def test_replaying_the_stream_twice_starts_from_a_clean_memory():
    states = [state(0, lp(1, "a", True))]
    assert run(states)[0].reason == "startup"
    assert run(states)[0].reason == "startup"


def test_a_swap_between_two_polls_plugs_the_next_car_in_at_the_swap_not_at_the_first_cars_plug_in():
    edges = run([
        state(0, lp(1, "a", True)),
        state(10, lp(1, "a", True)),
        state(20, lp(1, "", True, detecting=True)),  # a out, b in: no poll saw the wallbox empty
        state(30, lp(1, "", True, detecting=True)),
        state(40, lp(1, "b", True)),
    ])
    assert [(e.vehicle, e.at, e.plugged_at, e.reason) for e in edges] == [
        ("a", at(0), at(0), "startup"),
        ("b", at(40), at(20), "plugged"),
    ]


def test_the_same_car_plugged_in_again_between_two_polls_is_a_plug_in():
    from dataclasses import replace

    charged = replace(lp(1, "a", True), session_energy_wh=4200.0)
    edges = run([state(0, charged), state(10, charged), state(20, replace(charged, session_energy_wh=0.0))])
    assert [(e.at, e.plugged_at, e.reason) for e in edges] == [(at(0), at(0), "startup"),
                                                               (at(20), at(20), "plugged")]


def test_the_same_edges_observable_subscribed_twice_starts_from_a_clean_memory_each_time():
    states = [state(0, lp(1, "a", True)), state(10, lp(1)), state(20, lp(1, "a", True))]
    edges = connection_edges(timeline([(s.at, s) for s in states]))
    runs = []
    for _ in range(2):
        scheduler = HistoricalScheduler(initial_clock=T0)
        out: list[ConnectionEdge] = []
        edges.subscribe(out.append, scheduler=scheduler)
        scheduler.start()
        runs.append([(e.at, e.reason) for e in out])
    assert runs[0] == runs[1] == [(at(0), "startup"), (at(20), "plugged")]
