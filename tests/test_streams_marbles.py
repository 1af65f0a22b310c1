"""Marble tests: each stream function on reactivex's TestScheduler (1 char = 1 s)."""

from __future__ import annotations

from reactivex.testing.marbles import marbles_testing

from smartload.domain import SocReading
from smartload.streams.edges import connection_edges
from smartload.streams.polling import Outage, outages
from smartload.streams.soc import evcc_socs, latest_socs
from tests.builders import at, failure, lp, state


def test_edges_marbles():
    states = {
        "o": state(0, lp(1)),
        "a": state(1, lp(1, "a", True)),
        "i": state(2, lp(1, "", True, detecting=True)),
        "b": state(3, lp(1, "b", True)),
    }
    with marbles_testing(timespan=1.0) as (start, _cold, hot, _exp):
        result = start(connection_edges(hot("--o-a-a-o-i-b-b-|", lookup=states)))
    values = [(m.time, m.value.value.vehicle, m.value.value.reason) for m in result if m.value.kind == "N"]
    assert values == [(204.0, "a", "plugged"), (212.0, "b", "plugged")]
    assert [(m.time, m.value.kind) for m in result][-1] == (216.0, "C")


def test_outages_marbles_one_start_and_one_end_per_outage():
    polls = {"s": state(0, lp(1)), "x": failure(1), "y": failure(2), "p": failure(3, "parse")}
    with marbles_testing(timespan=1.0) as (start, _cold, hot, _exp):
        result = start(outages(hot("-s-x-y-x-p-s-s-x-s-|", lookup=polls)))
    events = [(m.time, m.value.value) for m in result if m.value.kind == "N"]
    assert [(t, o.ended_at is None, o.failed_polls) for t, o in events] == [
        (203.0, True, 1),
        (211.0, False, 3),  # the parse error neither starts nor ends an outage
        (215.0, True, 1),
        (217.0, False, 1),
    ]
    assert isinstance(events[1][1], Outage) and events[1][1].first_error == "connect: connection refused"


def test_evcc_socs_marbles_emit_on_change_only_for_identified_connected_cars():
    states = {
        "a": state(0, lp(1, "a", True, soc=40)),
        "b": state(1, lp(1, "a", True, soc=40)),
        "c": state(2, lp(1, "a", True, soc=41.5)),
        "g": state(3, lp(1, "", True, soc=70)),
        "d": state(4, lp(1, "", True, soc=70, detecting=True)),
    }
    with marbles_testing(timespan=1.0) as (start, _cold, hot, _exp):
        result = start(evcc_socs(hot("-a-b-c-g-d-|", lookup=states)))
    readings = [m.value.value for m in result if m.value.kind == "N"]
    times = [m.time for m in result if m.value.kind == "N"]
    assert [(t, r.soc_pct, r.measured_at, r.measured_at_known) for t, r in zip(times, readings, strict=True)] == [
        (201.0, 40, at(0), False),  # first sight: evcc may show an hours-old value
        (205.0, 41.5, at(2), True),
    ]


def test_latest_socs_marbles_keep_the_newest_measurement():
    r = {
        "e": SocReading("a", 40, "evcc", at(100), at(100)),
        "c": SocReading("a", 55, "cloud", at(90), at(130)),  # arrives later, measured earlier
        "f": SocReading("a", 57, "cloud", at(140), at(150)),
        "b": SocReading("b", 80, "evcc", at(10), at(10)),
        "u": SocReading("b", 20, "evcc", at(200), at(200), measured_at_known=False),
        "k": SocReading("b", 22, "cloud", at(15), at(210)),
    }
    with marbles_testing(timespan=1.0) as (start, _cold, hot, _exp):
        result = start(latest_socs(hot("-e-c-b-f-u-k-|", lookup=r)))
    tables = [m.value.value for m in result if m.value.kind == "N"]
    assert [{v: x.soc_pct for v, x in t.items()} for t in tables] == [
        {"a": 40},
        {"a": 40, "b": 80},
        {"a": 57, "b": 80},
        {"a": 57, "b": 22},  # the unknown-time evcc value never displaces a timed reading
    ]
