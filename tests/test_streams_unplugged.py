"""The refresh requests for cars that are not plugged in, and the departures that end a
car's stay, on a HistoricalScheduler."""

from __future__ import annotations

from datetime import timedelta

from reactivex.scheduler import HistoricalScheduler

from smartload.domain import ConnectionEdge, SiteState
from smartload.streams.unplugged import Departure, departures, unplugged_refreshes
from tests.builders import T0, at, lp, state
from tests.timeline import timeline


def run(states: list[SiteState], vehicles: tuple[str, ...] = ("a", "b"),
        every: timedelta = timedelta(minutes=30)) -> list[ConnectionEdge]:
    scheduler = HistoricalScheduler(initial_clock=T0)
    out: list[ConnectionEdge] = []
    source = timeline([(s.at, s) for s in states])
    unplugged_refreshes(source, {}, vehicles, every).subscribe(out.append, scheduler=scheduler)
    scheduler.start()
    return out


def polls(until_s: int, step_s: int, *loadpoints_at: tuple[int, tuple]) -> list[SiteState]:
    """A poll every step_s; loadpoints_at: (from second, loadpoints) switches."""
    out, current = [], ()
    for t in range(0, until_s + 1, step_s):
        for since, lps in loadpoints_at:
            if t >= since:
                current = lps
        out.append(state(t, *current))
    return out


def test_a_car_is_asked_for_every_interval_it_is_unplugged_and_never_while_plugged():
    states = polls(4 * 3600, 60,
                   (0, (lp(1, "a", True),)),      # a plugged in, b away from the start
                   (3000, (lp(1),)),              # a unplugged at 00:50
                   (7200, (lp(1, "a", True),)))   # a back at 02:00
    asked = [(e.vehicle, e.at, e.plugged_at, e.reason, e.loadpoint_id) for e in run(states)]
    assert asked[:3] == [
        ("b", at(1800), at(0), "unplugged", 0),
        ("b", at(3600), at(1800), "unplugged", 0),
        ("a", at(4800), at(3000), "unplugged", 0),
    ]
    assert [e for e in asked if e[0] == "a"] == [("a", at(4800), at(3000), "unplugged", 0),
                                               ("a", at(6600), at(4800), "unplugged", 0)]
    assert [e[1] for e in asked if e[0] == "b"] == [at(s) for s in range(1800, 4 * 3600 + 1, 1800)]


def test_no_request_while_evcc_is_still_identifying_a_car():
    states = polls(3600, 60, (0, (lp(1),)), (1500, (lp(1, "", True, detecting=True),)), (2400, (lp(1, "a", True),)))
    assert [(e.vehicle, e.at) for e in run(states, vehicles=("a",))] == []


def test_each_subscription_starts_with_a_clean_memory():
    states = polls(1800, 60, (0, (lp(1),)))
    stream = unplugged_refreshes(timeline([(s.at, s) for s in states]), {}, ("a",), timedelta(minutes=30))
    for _ in range(2):
        scheduler = HistoricalScheduler(initial_clock=T0)
        out: list[ConnectionEdge] = []
        stream.subscribe(out.append, scheduler=scheduler)
        scheduler.start()
        assert [e.at for e in out] == [at(1800)]


def left(states: list[SiteState], vehicles: tuple[str, ...] = ("a", "b")) -> list[tuple[str, object]]:
    scheduler = HistoricalScheduler(initial_clock=T0)
    out: list[Departure] = []
    source = timeline([(s.at, s) for s in states])
    departures(source, {"db:a": "a"}, vehicles).subscribe(out.append, scheduler=scheduler)
    scheduler.start()
    return [(d.vehicle, d.at) for d in out]


def test_a_departure_is_the_first_poll_that_no_longer_shows_the_car_at_a_loadpoint():
    states = polls(600, 60,
                   (0, (lp(1, "db:a", True), lp(2, "b", True))),
                   (120, (lp(1), lp(2, "b", True))),              # a leaves at 00:02
                   (240, (lp(1, "b", True), lp(2))),              # b moves without a poll away: no departure
                   (360, (lp(1, "", True, detecting=True), lp(2))),  # b being identified anew: gone until named
                   (480, (lp(1, "db:a", True), lp(2))))           # a back, b gone
    assert left(states) == [("a", at(120)), ("b", at(360))]


def test_departures_only_of_the_cars_asked_for():
    states = polls(300, 60, (0, (lp(1, "db:a", True), lp(2, "b", True))), (120, (lp(1), lp(2))))
    assert left(states, vehicles=("b",)) == [("b", at(120))]
