"""Issue 15 §1 through the composed system (compose) with the shipped refresh settings
(routine refresh every hour unplugged, throttle 5 min): polls every 10 s on a
HistoricalScheduler, one car "a" with a fake cloud answering after 20 s."""

from __future__ import annotations

from datetime import datetime, timedelta

from reactivex import operators as ops
from reactivex.scheduler import HistoricalScheduler

from smartload.compose import Ports, answered, compose
from smartload.domain import NO_LOADPOINT, ConnectionEdge, LoadpointState, RefreshOutcome, SiteState
from smartload.settings import Settings
from smartload.store.database import Database
from smartload.store.requests import RequestStore
from smartload.vehicles.fake import FakeAnswer, FakeProvider
from tests.builders import T0, at, lp, state
from tests.timeline import timeline

SETTINGS = Settings(site={"timezone": "UTC"},
                    vehicles={"a": {"capacity_kwh": 50, "provider": {"type": "fake"}}})
AWAY = (lp(1), lp(2))


def hms(hours: int, minutes: int, seconds: int = 0) -> float:
    """Seconds from T0 (17:00 UTC) to a time of the same day."""
    return (hours - 17) * 3600 + minutes * 60 + seconds


def polls(until_s: float, *changes: tuple[float, tuple[LoadpointState, ...]]) -> list[SiteState]:
    """A poll every 10 s from 17:00; changes: (from second, loadpoints), in order."""
    out, current = [], AWAY
    for t in range(0, int(until_s) + 1, 10):
        for since, loadpoints in changes:
            if t >= since:
                current = loadpoints
        out.append(state(t, *current, vehicles=("a",)))
    return out


def run(states: list[SiteState], provider: FakeProvider,
        manual: list[ConnectionEdge] = ()) -> list[RefreshOutcome]:  # type: ignore[assignment]
    scheduler = HistoricalScheduler(initial_clock=T0)
    polls = timeline([(s.at, s) for s in states]).pipe(ops.share())
    db = Database.open(":memory:")
    store = RequestStore(db)
    system = compose(SETTINGS, Ports(
        scheduler=scheduler, polls=polls, write=lambda w: answered(None), requests=store,
        providers=lambda _: {"a": provider}, until=polls.pipe(ops.ignore_elements(), ops.default_if_empty(None))))
    for edge in manual:  # a person asks at the wallbox's app: Controls.refresh
        scheduler.schedule_absolute(edge.at, lambda *_, v=edge.vehicle: system.controls.refresh(v))
    out: list[RefreshOutcome] = []
    system.graph.refreshes.subscribe(out.append, scheduler=scheduler)
    scheduler.start()
    system.dispose()
    db.close()
    return out


def summary(outcomes: list[RefreshOutcome]) -> list[tuple[str | None, datetime, str, str]]:
    return [(o.edge_reason, o.requested_at, o.status, o.reason) for o in outcomes]


# The car comes home at 18:04:00 and evcc takes 33 s to identify it: the first poll that
# shows it identified is 18:04:40.
PLUGGED_IN = (
    (hms(18, 4), (lp(1, "", True, detecting=True), lp(2))),
    (hms(18, 4, 33), (lp(1, "a", True), lp(2))),
)


def test_a_routine_refresh_at_18_00_does_not_cost_the_plug_in_at_18_04_its_refresh():
    provider = FakeProvider(latency=timedelta(seconds=20))
    out = run(polls(hms(18, 10), *PLUGGED_IN), provider)
    assert summary(out) == [
        ("unplugged", at(hms(18, 0)), "ok", "routine refresh while unplugged"),
        ("plugged", at(hms(18, 4, 40)), "ok", "plug-in at 18:04:00"),
    ]
    assert out[1].finished_at == at(hms(18, 5))
    assert provider.calls == [("a", at(hms(18, 0))), ("a", at(hms(18, 4, 40)))]


def test_a_manual_refresh_at_18_02_does_not_suppress_the_plug_in_refresh_either():
    provider = FakeProvider(latency=timedelta(seconds=20))
    by_hand = ConnectionEdge("a", NO_LOADPOINT, at(hms(18, 2)), at(hms(18, 2)), "manual")
    out = run(polls(hms(18, 10), *PLUGGED_IN), provider, manual=[by_hand])
    assert summary(out) == [
        ("unplugged", at(hms(18, 0)), "ok", "routine refresh while unplugged"),
        ("manual", at(hms(18, 2)), "ok", "asked for by hand"),
        ("plugged", at(hms(18, 4, 40)), "ok", "plug-in at 18:04:00"),
    ]


def test_a_plug_in_refused_for_the_cloud_s_backoff_gets_its_refresh_when_the_backoff_ends():
    # The routine refresh at 18:00 met a rate limit: Retry-After 8 minutes.
    provider = FakeProvider(script={"a": [FakeAnswer(None, retry_after_s=480)]}, latency=timedelta(seconds=20))
    out = run(polls(hms(18, 15), *PLUGGED_IN), provider)
    assert [(o.edge_reason, o.requested_at, o.status, o.retry) for o in out] == [
        ("unplugged", at(hms(18, 0)), "failed", 0),
        ("plugged", at(hms(18, 4, 40)), "backoff", 0),
        ("plugged", at(hms(18, 8, 20)), "ok", 1),
    ]
    assert out[1].reason == ("the cloud is not asked again before 18:08:20; "
                             "retry at 18:08:20 while plugged in without a newer reading")


def test_a_car_moving_to_another_wallbox_two_minutes_after_its_plug_in_refresh_is_not_asked_again():
    # Plugged in at loadpoint 1 at 18:04:00 (the refresh answers at 18:04:20, measured
    # then); at 18:06:20 the next poll shows it at loadpoint 2.
    provider = FakeProvider(latency=timedelta(seconds=20))
    out = run(polls(hms(18, 10), (hms(18, 4), (lp(1, "a", True), lp(2))),
                    (hms(18, 6, 20), (lp(1), lp(2, "a", True)))), provider)
    assert summary(out)[1:] == [
        ("plugged", at(hms(18, 4)), "ok", "plug-in at 18:04:00"),
        ("moved", at(hms(18, 6, 20)), "fresh", "measured at 18:04:20 by fake, after the plug-in at 18:04:00"),
    ]


def test_a_car_moving_with_a_poll_between_showing_it_away_is_not_asked_again_either():
    provider = FakeProvider(latency=timedelta(seconds=20))
    out = run(polls(hms(18, 10), (hms(18, 4), (lp(1, "a", True), lp(2))), (hms(18, 6, 10), AWAY),
                    (hms(18, 6, 20), (lp(1), lp(2, "a", True)))), provider)
    assert summary(out)[1:] == [
        ("plugged", at(hms(18, 4)), "ok", "plug-in at 18:04:00"),
        ("plugged", at(hms(18, 6, 20)), "fresh", "measured at 18:04:20 by fake, after the plug-in at 18:04:00"),
    ]


def test_a_flapping_cable_gets_one_call_and_a_skip_with_its_reason_per_edge():
    # From 18:04 the cable shows connected for 20 s, then 10 s not, for 3 minutes.
    provider = FakeProvider(default=FakeAnswer(50.0, age=timedelta(minutes=10)), latency=timedelta(seconds=5))
    flaps = []
    for start in range(int(hms(18, 4)), int(hms(18, 7)) + 1, 30):
        flaps += [(start, (lp(1, "a", True), lp(2))), (start + 20, AWAY)]
    out = run(polls(hms(18, 10), *flaps), provider)
    assert summary(out)[1:] == [("plugged", at(hms(18, 4)), "ok", "plug-in at 18:04:00")] + [
        ("plugged", at(hms(18, 4) + s), "throttled",
         "asked at 18:04:00 for the plug-in at 18:04:00 (back after 10 s away; at the wallboxes since 18:04:00)")
        for s in range(30, 181, 30)
    ]
    assert provider.calls == [("a", at(hms(18, 0))), ("a", at(hms(18, 4)))]
