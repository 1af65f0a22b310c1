"""The refresh stream in virtual time: throttle, daily budget, backoff, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reactivex.scheduler import HistoricalScheduler

from smartload.domain import ConnectionEdge, RefreshOutcome
from smartload.streams.refresh import RefreshPolicy, refreshes
from smartload.vehicles.fake import FakeAnswer, FakeProvider
from tests.builders import T0, at
from tests.timeline import timeline

POLICY = RefreshPolicy(timedelta(minutes=5), 4, timedelta(minutes=1), timedelta(hours=1))


def edge(seconds: float, vehicle: str = "a") -> ConnectionEdge:
    return ConnectionEdge(vehicle, 1, at(seconds), at(seconds), "plugged")


def run(edges: list[ConnectionEdge], provider: FakeProvider, policy: RefreshPolicy = POLICY) -> list[RefreshOutcome]:
    scheduler = HistoricalScheduler(initial_clock=T0)
    out: list[RefreshOutcome] = []
    source = timeline([(e.at, e) for e in edges])
    vehicles = {e.vehicle for e in edges}
    refreshes(source, dict.fromkeys(vehicles, provider), dict.fromkeys(vehicles, policy), UTC).subscribe(
        out.append, scheduler=scheduler
    )
    scheduler.start()
    return out


def test_refresh_is_requested_at_the_edge_and_answers_after_virtual_latency():
    provider = FakeProvider(default=FakeAnswer(63.0, age=timedelta(minutes=7)), latency=timedelta(seconds=20))
    [outcome] = run([edge(30)], provider)
    assert (outcome.status, outcome.requested_at, outcome.finished_at) == ("ok", at(30), at(50))
    assert outcome.reading is not None
    assert (outcome.reading.soc_pct, outcome.reading.measured_at) == (63.0, at(50) - timedelta(minutes=7))
    assert provider.calls == [("a", at(30))]


def test_no_second_call_inside_the_throttle_window_per_vehicle():
    provider = FakeProvider(latency=timedelta(seconds=1))
    out = run([edge(0), edge(60), edge(299), edge(300), edge(0, "b"), edge(100, "b")], provider)
    assert sorted((o.vehicle, o.requested_at) for o in out) == [("a", at(0)), ("a", at(300)), ("b", at(0))]


def test_daily_budget_is_respected_and_resets_at_midnight():
    provider = FakeProvider(latency=timedelta(seconds=1))
    policy = RefreshPolicy(timedelta(minutes=5), 2, timedelta(minutes=1), timedelta(hours=1))
    seconds = [0, 600, 1200, 1800]
    midnight = (datetime(2026, 3, 3, tzinfo=UTC) - T0).total_seconds()
    out = run([edge(s) for s in [*seconds, midnight + 60]], provider, policy)
    assert [o.status for o in out] == ["ok", "ok", "budget_exhausted", "budget_exhausted", "ok"]
    assert len(provider.calls) == 3


def test_failures_back_off_exponentially_and_do_not_end_the_stream():
    provider = FakeProvider(
        script={"a": [FakeAnswer(None), FakeAnswer(None), FakeAnswer(70.0)]}, latency=timedelta(seconds=5)
    )
    # Failures at 0 (+5 s latency) and then: backoff 1 min, 2 min.
    out = run([edge(s) for s in (0, 301, 602, 903, 1204)], provider)
    assert [(o.requested_at, o.status) for o in out] == [
        (at(0), "failed"),
        (at(301), "failed"),
        (at(602), "ok"),
        (at(903), "ok"),
        (at(1204), "budget_exhausted"),
    ]


def test_retry_after_from_a_rate_limit_extends_the_backoff():
    provider = FakeProvider(script={"a": [FakeAnswer(None, retry_after_s=3600)]}, latency=timedelta(seconds=1))
    out = run([edge(0), edge(600), edge(3602)], provider)
    assert [o.status for o in out] == ["failed", "backoff", "ok"]


def test_vehicles_without_provider_are_ignored():
    scheduler = HistoricalScheduler(initial_clock=T0)
    out: list[RefreshOutcome] = []
    refreshes(timeline([(at(0), edge(0, "x"))]), {}, {}, UTC).subscribe(out.append, scheduler=scheduler)
    scheduler.start()
    assert out == []


def test_spare_refreshes_of_unplugged_cars_leave_half_the_budget_for_plug_ins():
    provider = FakeProvider(latency=timedelta(seconds=1))
    spare = [ConnectionEdge("a", 0, at(s), at(s), "unplugged") for s in (0, 600, 1200)]
    out = run([*spare, edge(1800), edge(2400), edge(3000), edge(3600)], provider)
    # budget 4: two spare calls, then the third is refused; plug-ins take the other two
    assert [o.status for o in out] == ["ok", "ok", "budget_reserved", "ok", "ok",
                                       "budget_exhausted", "budget_exhausted"]
    assert provider.calls == [("a", at(0)), ("a", at(600)), ("a", at(1800)), ("a", at(2400))]
