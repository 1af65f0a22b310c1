"""The refresh stream in virtual time: its three lanes, the shared budget and backoff,
skips with their reasons, and retries of plug-in refreshes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from reactivex.scheduler import HistoricalScheduler
from reactivex.subject import Subject

from smartload.domain import NO_LOADPOINT, ConnectionEdge, EdgeReason, RefreshOutcome, SocReading
from smartload.streams.refresh import RefreshPolicy, refreshes
from smartload.streams.unplugged import Departure
from smartload.vehicles.fake import FakeAnswer, FakeProvider
from tests.builders import T0, at
from tests.timeline import timeline

POLICY = RefreshPolicy(timedelta(minutes=5), 4, timedelta(minutes=1), timedelta(hours=1))
STALE = FakeAnswer(50.0, age=timedelta(minutes=10))  # a cloud that hands out what the car sent long ago


def edge(seconds: float, vehicle: str = "a", reason: EdgeReason = "plugged",
         plugged_s: float | None = None) -> ConnectionEdge:
    lp_id = NO_LOADPOINT if reason in ("unplugged", "manual") else 1
    return ConnectionEdge(vehicle, lp_id, at(seconds), at(seconds if plugged_s is None else plugged_s), reason)


def evcc(seconds: float, measured_s: float | None = None, known: bool = True, vehicle: str = "a") -> SocReading:
    measured = at(seconds if measured_s is None else measured_s)
    return SocReading(vehicle, 40.0, "evcc", measured, at(seconds), known)


def run(requests: list[ConnectionEdge], provider: FakeProvider, policy: RefreshPolicy = POLICY,
        readings: list[SocReading] = (), left: list[Departure] = (),  # type: ignore[assignment]
        until: datetime | None = None) -> list[RefreshOutcome]:
    """Replay the requests (ending two hours after the last, unless `until`) with the
    other readings and the departures on their own timelines."""
    scheduler = HistoricalScheduler(initial_clock=T0)
    out: list[RefreshOutcome] = []
    end = until or max(e.at for e in requests) + timedelta(hours=2)
    vehicles = {e.vehicle for e in requests}
    refreshes(
        timeline([(e.at, e) for e in requests], complete_at=end),
        dict.fromkeys(vehicles, provider), dict.fromkeys(vehicles, policy), UTC,
        readings=timeline([(r.received_at, r) for r in readings]),
        departures=timeline([(d.at, d) for d in left]),
    ).subscribe(out.append, scheduler=scheduler)
    scheduler.start()
    return out


def summary(outcomes: list[RefreshOutcome]) -> list[tuple[str | None, datetime, str, int, str]]:
    return [(o.edge_reason, o.requested_at, o.status, o.retry, o.reason) for o in outcomes]


def test_refresh_is_requested_at_the_edge_and_answers_after_virtual_latency():
    provider = FakeProvider(default=FakeAnswer(63.0, age=timedelta(minutes=7)), latency=timedelta(seconds=20))
    [outcome] = run([edge(30)], provider)
    assert (outcome.status, outcome.requested_at, outcome.finished_at) == ("ok", at(30), at(50))
    assert outcome.reading is not None
    assert (outcome.reading.soc_pct, outcome.reading.measured_at) == (63.0, at(50) - timedelta(minutes=7))
    assert (outcome.reason, outcome.edge_reason, outcome.retry) == ("plug-in at 17:00:30", "plugged", 0)
    assert provider.calls == [("a", at(30))]


def test_routine_and_manual_refreshes_do_not_take_the_plug_in_refresh_s_turn():
    # The car is on the road: asked at 17:00 (routine) and 17:02 (by hand), plugged in at
    # 17:04 and identified 33 s later, at the poll of 17:04:40.
    provider = FakeProvider(latency=timedelta(seconds=20))
    out = run([edge(0, reason="unplugged"), edge(120, reason="manual"), edge(280, plugged_s=240)], provider)
    assert summary(out) == [
        ("unplugged", at(0), "ok", 0, "routine refresh while unplugged"),
        ("manual", at(120), "ok", 0, "asked for by hand"),
        ("plugged", at(280), "ok", 0, "plug-in at 17:04:00"),
    ]
    assert provider.calls == [("a", at(0)), ("a", at(120)), ("a", at(280))]


def test_routine_and_manual_refreshes_each_keep_their_own_throttle_window():
    provider = FakeProvider(latency=timedelta(seconds=1))
    policy = RefreshPolicy(timedelta(minutes=5), 10, timedelta(minutes=1), timedelta(hours=1))
    out = run([edge(0, reason="unplugged"), edge(60, reason="manual"), edge(120, reason="unplugged"),
               edge(200, reason="manual"), edge(360, reason="manual"), edge(400, reason="unplugged")], provider,
              policy)
    assert summary(out) == [
        ("unplugged", at(0), "ok", 0, "routine refresh while unplugged"),
        ("manual", at(60), "ok", 0, "asked for by hand"),
        ("unplugged", at(120), "throttled", 0, "routine refresh asked at 17:00:00; the next from 17:05:00"),
        ("manual", at(200), "throttled", 0, "manual refresh asked at 17:01:00; the next from 17:06:00"),
        ("manual", at(360), "ok", 0, "asked for by hand"),
        ("unplugged", at(400), "ok", 0, "routine refresh while unplugged"),
    ]


def test_a_plug_in_is_skipped_when_the_car_was_measured_since_it_arrived():
    provider = FakeProvider(latency=timedelta(seconds=20))
    # evcc read the car at 17:04:10, after the plug-in at 17:04:00; the edge came at 17:04:40.
    out = run([edge(280, plugged_s=240)], provider, readings=[evcc(250)])
    assert summary(out) == [
        ("plugged", at(280), "fresh", 0, "measured at 17:04:10 by evcc, after the plug-in at 17:04:00"),
    ]
    assert provider.calls == []


@pytest.mark.parametrize("reading", [
    evcc(250, measured_s=230),       # measured before the plug-in
    evcc(250, known=False),          # a value evcc showed without our seeing it change: age unknown
    evcc(250, vehicle="b"),          # another car's
])
def test_a_reading_that_does_not_show_the_car_since_its_plug_in_does_not_stop_the_refresh(reading):
    provider = FakeProvider(latency=timedelta(seconds=20))
    out = run([edge(280, plugged_s=240)], provider, readings=[reading])
    assert [(o.requested_at, o.status) for o in out] == [(at(280), "ok")]


def test_a_reading_evcc_shows_in_the_same_poll_counts_even_when_it_arrives_after_the_edge():
    provider = FakeProvider(latency=timedelta(seconds=20))
    scheduler = HistoricalScheduler(initial_clock=T0)
    requests: Subject[ConnectionEdge] = Subject()
    readings: Subject[SocReading] = Subject()
    out: list[RefreshOutcome] = []
    refreshes(requests, {"a": provider}, {"a": POLICY}, UTC, readings=readings).subscribe(
        out.append, scheduler=scheduler)

    def poll(*_: object) -> None:  # one poll: the edge's branch hears it before the SoC's
        requests.on_next(edge(280, plugged_s=240))
        readings.on_next(evcc(280))

    scheduler.schedule_absolute(at(280), poll)
    scheduler.schedule_absolute(at(300), lambda *_: requests.on_completed())
    scheduler.start()
    assert [(o.requested_at, o.status, o.reason) for o in out] == [
        (at(280), "fresh", "measured at 17:04:40 by evcc, after the plug-in at 17:04:00")]
    assert provider.calls == []


def flapping(every_s: int = 30, connected_s: int = 20, until_s: int = 180) -> tuple[list, list]:
    plugs = [edge(s) for s in range(0, until_s + 1, every_s)]
    left = [Departure("a", at(s + connected_s)) for s in range(0, until_s, every_s)]
    return plugs, left


@pytest.mark.parametrize(("answer", "skipped", "reason"), [
    (FakeAnswer(50.0), "fresh", "measured at 17:00:05 by fake, after the plug-in at 17:00:00"),
    (STALE, "throttled", "asked at 17:00:00 for the plug-in at 17:00:00 (back after 10 s away; "
                         "at the wallboxes since 17:00:00)"),
])
def test_a_flapping_cable_costs_one_call_and_every_edge_says_why_it_was_skipped(answer, skipped, reason):
    # Plug-in edges every 30 s for 3 minutes, each after 10 s away.
    provider = FakeProvider(default=answer, latency=timedelta(seconds=5))
    plugs, left = flapping()
    out = run(plugs, provider, left=left)
    assert provider.calls == [("a", at(0))]
    assert summary(out) == [("plugged", at(0), "ok", 0, "plug-in at 17:00:00")] + [
        ("plugged", at(s), skipped, 0, reason) for s in range(30, 181, 30)]


def test_a_car_away_longer_than_the_throttle_window_starts_a_new_stay_and_is_asked_again():
    provider = FakeProvider(default=STALE, latency=timedelta(seconds=5))
    out = run([edge(0), edge(400)], provider, left=[Departure("a", at(60))])  # away 340 s > 300 s
    assert [(o.requested_at, o.status, o.reason) for o in out] == [
        (at(0), "ok", "plug-in at 17:00:00"), (at(400), "ok", "plug-in at 17:06:40")]


@pytest.mark.parametrize(("answer", "status", "reason"), [
    # The plug-in reading was measured after the plug-in: the move gives nothing newer.
    (FakeAnswer(50.0), "fresh", "measured at 17:00:20 by fake, after the plug-in at 17:00:00"),
    # The cloud answered with an old reading: the car has not been anywhere since, so
    # asking again two minutes later would get the same, and cost a call.
    (STALE, "throttled", "asked at 17:00:00 for the plug-in at 17:00:00 (moved without leaving; "
                         "at the wallboxes since 17:00:00)"),
])
def test_a_car_moving_to_another_wallbox_two_minutes_after_its_plug_in_refresh(answer, status, reason):
    provider = FakeProvider(default=answer, latency=timedelta(seconds=20))
    moved = ConnectionEdge("a", 2, at(140), at(140), "moved")
    out = run([edge(0), moved], provider)
    assert summary(out) == [("plugged", at(0), "ok", 0, "plug-in at 17:00:00"), ("moved", at(140), status, 0, reason)]
    assert provider.calls == [("a", at(0))]


def test_calls_for_one_car_go_out_one_at_a_time_and_a_waiting_request_is_decided_with_the_answer():
    provider = FakeProvider(default=STALE, latency=timedelta(seconds=30))
    out = run([edge(0, reason="unplugged"), edge(10)], provider)
    # The routine answer (measured 17:00:30 - 10 min) is older than the plug-in: ask again.
    assert [(o.edge_reason, o.requested_at, o.finished_at, o.status) for o in out] == [
        ("unplugged", at(0), at(30), "ok"), ("plugged", at(30), at(60), "ok")]
    assert provider.calls == [("a", at(0)), ("a", at(30))]


def test_a_plug_in_waiting_behind_a_slow_call_gives_way_to_a_newer_plug_in_of_the_car():
    provider = FakeProvider(default=STALE, latency=timedelta(minutes=10))
    # The routine call takes until 17:10; the car plugs in at 17:00:10, leaves at 17:00:20
    # and is back at 17:06:40, after longer than the throttle window.
    out = run([edge(0, reason="unplugged"), edge(10), edge(400)], provider, left=[Departure("a", at(20))])
    assert summary(out) == [
        ("unplugged", at(0), "ok", 0, "routine refresh while unplugged"),
        ("plugged", at(600), "cancelled", 0, "a new plug-in at 17:06:40 took its place"),
        ("plugged", at(600), "ok", 0, "plug-in at 17:06:40"),
    ]


def test_a_plug_in_refused_for_backoff_is_retried_when_the_backoff_ends():
    # The routine refresh at 17:00 met a rate limit (Retry-After 10 min).
    provider = FakeProvider(script={"a": [FakeAnswer(None, retry_after_s=600)]}, latency=timedelta(seconds=5))
    out = run([edge(0, reason="unplugged"), edge(280, plugged_s=240)], provider)
    assert summary(out) == [
        ("unplugged", at(0), "failed", 0, "the cloud is not asked again before 17:10:05"),
        ("plugged", at(280), "backoff", 0, "the cloud is not asked again before 17:10:05; "
                                           "retry at 17:10:05 while plugged in without a newer reading"),
        ("plugged", at(605), "ok", 1, "plug-in at 17:04:00 (retry 1)"),
    ]
    assert provider.calls == [("a", at(0)), ("a", at(605))]


def test_a_planned_retry_is_cancelled_when_the_car_leaves():
    provider = FakeProvider(script={"a": [FakeAnswer(None, retry_after_s=600)]}, latency=timedelta(seconds=5))
    out = run([edge(0, reason="unplugged"), edge(280, plugged_s=240)], provider, left=[Departure("a", at(500))])
    assert summary(out)[2:] == [
        ("plugged", at(500), "cancelled", 1, "retry due at 17:10:05 not needed: the car left at 17:08:20")]
    assert provider.calls == [("a", at(0))]


def test_a_retry_finds_a_reading_measured_since_the_plug_in_and_asks_nothing():
    provider = FakeProvider(script={"a": [FakeAnswer(None, retry_after_s=600)]}, latency=timedelta(seconds=5))
    out = run([edge(0, reason="unplugged"), edge(280, plugged_s=240)], provider, readings=[evcc(400)])
    assert summary(out)[2:] == [
        ("plugged", at(605), "fresh", 1, "measured at 17:06:40 by evcc, after the plug-in at 17:04:00")]
    assert provider.calls == [("a", at(0))]


def test_a_failing_cloud_is_retried_after_each_backoff_up_to_the_limit_and_the_stream_goes_on():
    provider = FakeProvider(default=FakeAnswer(None), latency=timedelta(seconds=5))
    policy = RefreshPolicy(timedelta(minutes=5), 10, timedelta(minutes=1), timedelta(hours=1))
    out = run([edge(0), edge(3600, vehicle="b")], provider, policy)
    # Failures at 17:00:05 (+1 min), 17:01:10 (+2), 17:03:15 (+4), 17:07:20: then no retry left.
    assert [(o.vehicle, o.requested_at, o.status, o.retry, o.reason) for o in out] == [
        ("a", at(0), "failed", 0, "the cloud is not asked again before 17:01:05; "
                                  "retry at 17:01:05 while plugged in without a newer reading"),
        ("a", at(65), "failed", 1, "the cloud is not asked again before 17:03:10; "
                                   "retry at 17:03:10 while plugged in without a newer reading"),
        ("a", at(190), "failed", 2, "the cloud is not asked again before 17:07:15; "
                                    "retry at 17:07:15 while plugged in without a newer reading"),
        ("a", at(435), "failed", 3, "the cloud is not asked again before 17:15:20; no retry left (3 used)"),
        ("b", at(3600), "failed", 0, "the cloud is not asked again before 18:01:05; "
                                     "retry at 18:01:05 while plugged in without a newer reading"),
        ("b", at(3665), "failed", 1, "the cloud is not asked again before 18:03:10; "
                                     "retry at 18:03:10 while plugged in without a newer reading"),
        ("b", at(3790), "failed", 2, "the cloud is not asked again before 18:07:15; "
                                     "retry at 18:07:15 while plugged in without a newer reading"),
        ("b", at(4035), "failed", 3, "the cloud is not asked again before 18:15:20; no retry left (3 used)"),
    ]
    assert all(o.error == "fake cloud error" for o in out)


def test_the_daily_budget_is_shared_by_all_lanes_and_resets_at_midnight():
    provider = FakeProvider(latency=timedelta(seconds=1))
    policy = RefreshPolicy(timedelta(minutes=5), 2, timedelta(minutes=1), timedelta(hours=1))
    midnight = (datetime(2026, 3, 3, tzinfo=UTC) - T0).total_seconds()
    out = run([edge(0, reason="manual"), edge(600), edge(1200), edge(1800, reason="unplugged"),
               edge(midnight + 60)], provider, policy)
    assert [(o.edge_reason, o.status, o.reason) for o in out] == [
        ("manual", "ok", "asked for by hand"),
        ("plugged", "ok", "plug-in at 17:10:00"),
        ("plugged", "budget_exhausted", "all 2 calls of today's budget are used"),
        ("unplugged", "budget_exhausted", "all 2 calls of today's budget are used"),
        ("plugged", "ok", "plug-in at 00:01:00"),
    ]
    assert len(provider.calls) == 3


def test_spare_refreshes_of_unplugged_cars_leave_half_the_budget_for_plug_ins():
    provider = FakeProvider(latency=timedelta(seconds=1))
    spare = [edge(s, reason="unplugged") for s in (0, 600, 1200)]
    out = run([*spare, edge(1800), edge(2400), edge(3000), edge(3600)], provider)
    # budget 4: two spare calls, then the third is refused; plug-ins take the other two
    assert [o.status for o in out] == ["ok", "ok", "budget_reserved", "ok", "ok",
                                       "budget_exhausted", "budget_exhausted"]
    assert out[2].reason == "routine refreshes may use 2 of the 4 calls a day; the rest is kept for plug-ins"
    assert provider.calls == [("a", at(0)), ("a", at(600)), ("a", at(1800)), ("a", at(2400))]


def test_the_requests_ending_cancel_a_planned_retry_and_complete_the_stream():
    provider = FakeProvider(default=FakeAnswer(None), latency=timedelta(seconds=5))
    scheduler = HistoricalScheduler(initial_clock=T0)
    out: list[RefreshOutcome] = []
    completed: list[datetime] = []
    refreshes(timeline([(at(0), edge(0))], complete_at=at(30)), {"a": provider}, {"a": POLICY}, UTC).subscribe(
        out.append, on_completed=lambda: completed.append(scheduler.now), scheduler=scheduler)
    scheduler.start()
    assert [(o.requested_at, o.status, o.retry, o.reason) for o in out][1:] == [
        (at(30), "cancelled", 1, "retry due at 17:01:05 not needed: the requests ended")]
    assert completed == [at(30)]


def test_vehicles_without_provider_are_ignored():
    scheduler = HistoricalScheduler(initial_clock=T0)
    out: list[RefreshOutcome] = []
    refreshes(timeline([(at(0), edge(0, "x"))]), {}, {}, UTC).subscribe(out.append, scheduler=scheduler)
    scheduler.start()
    assert out == []
