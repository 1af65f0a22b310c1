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


# -- The documented cases (smartload/streams/edges.py) that had no test of their own ------


def test_a_car_still_being_identified_at_start_up_is_plugged_from_the_first_poll():
    edges = run([state(0, lp(1, "", True, detecting=True)), state(10, lp(1, "a", True))])
    assert [(e.vehicle, e.at, e.plugged_at, e.reason) for e in edges] == [("a", at(10), at(0), "plugged")]


def test_a_move_counts_from_the_session_at_the_new_loadpoint():
    edges = run([
        state(0, lp(1, "a", True), lp(2)),
        state(10, lp(1, "a", True), lp(2, "", True, detecting=True)),  # plugged at 2, not yet named
        state(20, lp(1), lp(2, "a", True)),
    ])
    assert [(e.vehicle, e.loadpoint_id, e.at, e.plugged_at, e.reason) for e in edges] == [
        ("a", 1, at(0), at(0), "startup"),
        ("a", 2, at(20), at(10), "moved"),
    ]


def test_unplugged_and_then_plugged_in_elsewhere_is_a_plug_in_not_a_move():
    edges = run([state(0, lp(1, "a", True), lp(2)), state(10, lp(1), lp(2)), state(20, lp(1), lp(2, "a", True))])
    assert [(e.loadpoint_id, e.at, e.reason) for e in edges] == [(1, at(0), "startup"), (2, at(20), "plugged")]


def test_a_guest_that_stays_a_guest_never_produces_an_edge_while_other_cars_do():
    from dataclasses import replace

    polls = [state(0, lp(1, "", True), lp(2))]
    polls += [state(10 * k, replace(lp(1, "", True), charge_power_w=1000.0 * k), lp(2)) for k in range(1, 4)]
    polls += [state(40, lp(1, "", True), lp(2, "a", True)), state(50, lp(1, "", True), lp(2, "a", True))]
    edges = run(polls)
    assert [(e.vehicle, e.loadpoint_id, e.at, e.plugged_at, e.reason) for e in edges] == [
        ("a", 2, at(40), at(40), "plugged"),
    ]


def test_identification_ending_in_a_guest_produces_no_edge():
    edges = run([
        state(0, lp(1)),
        state(10, lp(1, "", True, detecting=True)),
        state(20, lp(1, "", True)),
        state(30, lp(1)),
    ])
    assert edges == []


def test_a_swap_from_one_named_car_to_the_next_between_two_polls():
    edges = run([state(0, lp(1, "a", True)), state(10, lp(1, "a", True)), state(20, lp(1, "b", True))])
    assert [(e.vehicle, e.at, e.plugged_at, e.reason) for e in edges] == [
        ("a", at(0), at(0), "startup"),
        ("b", at(20), at(20), "plugged"),
    ]


# -- The stream's parts ----------------------------------------------------------------


def test_presences_map_one_poll_on_its_own():
    from smartload.streams.edges import presences

    poll = state(0, lp(1, "db:1", True), lp(2, "", True, detecting=True), lp(3, "b"), vehicles=("db:1", "b"))
    expected = [("ioniq", 1), ("z", None), ("b", None)]  # known first, then evcc's map; b is not connected
    for _ in range(2):  # no memory: the same poll maps the same way again
        out = presences((poll, True), {"db:1": "ioniq"}, ("ioniq", "z"))
        assert [(p.vehicle, p.loadpoint_id) for p in out] == expected
        assert all(p.first_poll and p.at == at(0) and p.loadpoints == poll.loadpoints for p in out)


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


def test_polls_that_differ_only_in_what_the_edges_do_not_read_change_nothing():
    from dataclasses import replace

    plain = [state(0, lp(1)), state(10, lp(1, "", True, detecting=True)), state(20, lp(1, "a", True)),
             state(30, lp(1, "a", True)), state(40, lp(1)), state(50, lp(1, "b", True))]
    busy = [replace(s, pv_power_w=float(k), loadpoints=tuple(
                replace(x, charge_power_w=100.0 * k, vehicle_soc_pct=float(k), charging=k % 2 == 0)
                for x in s.loadpoints))
            for k, s in enumerate(plain)]
    assert run(busy) == run(plain) and len(run(plain)) == 2


def test_edges_read_holds_every_loadpoint_field_the_session_rule_and_identification_read():
    # The stream skips polls equal in EDGES_READ; a field outside it must not change
    # domain.new_session or identified_vehicle (if one does, add it to EDGES_READ).
    from dataclasses import fields, replace

    from smartload.domain import LoadpointState, new_session
    from smartload.streams.edges import EDGES_READ

    def others(value: object) -> list[object]:
        if isinstance(value, bool):
            return [not value]
        if isinstance(value, int | float):
            return [value + 1, -1e6, None]
        if isinstance(value, str):
            return ["", "zz", None]
        return [0, 1.5, 1e6, "x", True]

    cars = [lp(1), lp(1, "a", True), lp(1, "b", True), lp(1, "", True), lp(1, "", True, detecting=True),
            replace(lp(1, "a", True), session_energy_wh=5000.0), replace(lp(1, "a", True), session_energy_wh=0.0)]
    unread = [f.name for f in fields(LoadpointState) if f.name not in EDGES_READ]
    assert "charge_power_w" in unread and "vehicle_soc_pct" in unread
    for name in unread:
        for before in cars:
            for after in cars:
                for value in others(getattr(after, name)):
                    told = replace(after, **{name: value})
                    assert new_session(before, told) == new_session(before, after), name
                    assert new_session(replace(before, **{name: value}), after) == new_session(before, after), name
                    assert told.identified_vehicle == after.identified_vehicle, name


# -- The whole stream against a plain model of the rules, on generated polls ---------------


def _model(states: list[SiteState], names: dict[str, str], known: tuple[str, ...]) -> list[ConnectionEdge]:
    """The rules of edges.py written as a loop over polls with plain dicts."""
    from smartload.domain import new_session

    since: dict[int, object] = {}
    shown: dict[int, object] = {}
    place: dict[str, object] = {}
    out = []
    for index, s in enumerate(states):
        where = {}
        for x in s.loadpoints:
            if not x.connected:
                since.pop(x.id, None)
                shown.pop(x.id, None)
                continue
            if new_session(shown.get(x.id), x):  # type: ignore[arg-type]
                since[x.id] = s.at
            shown[x.id] = x
            since.setdefault(x.id, s.at)
            if x.identified_vehicle is not None:
                where[names.get(x.identified_vehicle, x.identified_vehicle)] = (x.id, since[x.id])
        for vehicle in dict.fromkeys([*known, *(names.get(v, v) for v in s.vehicles), *where]):
            now, first = where.get(vehicle), vehicle not in place
            if not first and place[vehicle] == now:
                continue
            before, place[vehicle] = place.get(vehicle), now
            if now is None:
                continue
            reason = ("startup" if index == 0 else "moved" if before is not None and before[0] != now[0]
                      else "plugged")
            out.append(ConnectionEdge(vehicle, now[0], s.at, now[1], reason))  # type: ignore[arg-type]
    return out


def test_the_stream_agrees_with_a_plain_model_of_the_rules():
    from dataclasses import replace

    from hypothesis import given
    from hypothesis import strategies as st

    def shown_as(lp_id: int, kind: str, car: str, energy: float | None, power: float) -> object:
        base = {"empty": lp(lp_id), "detecting": lp(lp_id, "", True, detecting=True), "guest": lp(lp_id, "", True),
                "car": lp(lp_id, car, True)}[kind]
        return replace(base, session_energy_wh=energy if base.connected else None, charge_power_w=power)

    def loadpoint(lp_id: int) -> st.SearchStrategy[object]:
        return st.builds(shown_as, st.just(lp_id), st.sampled_from(["empty", "detecting", "guest", "car", "car"]),
                         st.sampled_from(["a", "b", "db:c"]), st.sampled_from([None, 0.0, 800.0, 4000.0]),
                         st.sampled_from([0.0, 3680.0]))

    polls = st.lists(st.tuples(loadpoint(1), loadpoint(2), st.booleans()), min_size=1, max_size=14)

    @given(polls, st.sampled_from([((), {}), (("c", "z"), {"db:c": "c"})]))
    def check(rows: list[tuple[object, object, bool]], setup: tuple[tuple[str, ...], dict[str, str]]) -> None:
        known, names = setup
        # evcc's map lists every car, as evcc does; a poll may leave loadpoint 2 out.
        states = [state(10 * k, one, *((two,) if both else ()), vehicles=("a", "b", "db:c"))  # type: ignore[arg-type]
                  for k, (one, two, both) in enumerate(rows)]
        assert run(states, names=names, known=known) == _model(states, names, known)

    check()
