"""Poll source (interval, exclusive, backoff, resumption) and aligned ticks, in virtual time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops
from reactivex.scheduler import HistoricalScheduler

from smartload.domain import PollError, RawPoll, Tariffs
from smartload.streams.polling import poll_source
from smartload.streams.ticks import aligned_ticks, next_aligned, snapshots
from tests.builders import T0, at, lp, state
from tests.timeline import timeline


def fake_evcc(scheduler: HistoricalScheduler, down: tuple[float, float], latency_s: float = 1.0):
    calls: list[datetime] = []

    def fetch() -> Observable[RawPoll]:
        def respond(_: int) -> RawPoll:
            now = scheduler.now
            seconds = (now - T0).total_seconds()
            if down[0] <= seconds < down[1]:
                return RawPoll(now, error=PollError(now, "connect", "connection refused"))
            return RawPoll(now, body=b"{}")

        def request(_: object) -> Observable[RawPoll]:
            calls.append(scheduler.now)
            return rx.timer(latency_s).pipe(ops.map(respond))

        return rx.defer(request)

    return fetch, calls


def test_polls_every_period_and_backs_off_during_an_outage_then_resumes():
    scheduler = HistoricalScheduler(initial_clock=T0)
    fetch, calls = fake_evcc(scheduler, down=(25, 205))
    out: list[RawPoll] = []
    poll_source(fetch, timedelta(seconds=10), timedelta(seconds=80)).pipe(
        ops.take_while(lambda p: p.at < at(300))
    ).subscribe(out.append, scheduler=scheduler)
    scheduler.start()
    offsets = [(c - T0).total_seconds() for c in calls]
    # Up at 0,10,20; down from 25 s: failures at 30 (wait 10), 40 (20), 60 (40), 100 (80), 180 (80);
    # evcc is back at 205, the poll at 260 succeeds and 10 s polling resumes.
    assert offsets[:12] == [0, 10, 20, 30, 40, 60, 100, 180, 260, 270, 280, 290]
    assert [p.error is None for p in out[:10]] == [True] * 3 + [False] * 5 + [True] * 2


def test_a_slow_poll_skips_ticks_instead_of_stacking_requests():
    scheduler = HistoricalScheduler(initial_clock=T0)
    fetch, calls = fake_evcc(scheduler, down=(0, 0), latency_s=25)
    poll_source(fetch, timedelta(seconds=10), timedelta(seconds=60)).pipe(ops.take(3)).subscribe(
        lambda _: None, scheduler=scheduler
    )
    scheduler.start()
    assert [(c - T0).total_seconds() for c in calls] == [0, 30, 60]


def test_next_aligned_is_on_the_wall_clock_quarter_hours():
    q = timedelta(minutes=15)
    assert next_aligned(datetime(2026, 3, 2, 17, 32, 10, tzinfo=UTC), q) == datetime(2026, 3, 2, 17, 45, tzinfo=UTC)
    assert next_aligned(datetime(2026, 3, 2, 17, 45, tzinfo=UTC), q) == datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    assert next_aligned(datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC), q) == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


def test_ticks_do_not_drift_and_carry_the_latest_values():
    start = datetime(2026, 3, 2, 17, 7, 3, tzinfo=UTC)
    scheduler = HistoricalScheduler(initial_clock=start)
    states = timeline([(start + timedelta(minutes=m), state(m * 60, lp(1))) for m in (1, 20, 40)])
    ticks = aligned_ticks(timedelta(minutes=15)).pipe(ops.take(4), ops.map(lambda t: (t, "tick")))
    out = []
    snapshots(ticks, states, rx.never(), rx.never(), rx.never()).subscribe(out.append, scheduler=scheduler)
    scheduler.advance_to(start + timedelta(hours=2))
    assert [s.at.strftime("%H:%M:%S") for s in out] == ["17:15:00", "17:30:00", "17:45:00", "18:00:00"]
    assert [s.state.at if s.state else None for s in out] == [at(60), at(1200), at(1200), at(2400)]
    assert all(s.tariffs == Tariffs() and s.socs == {} for s in out)


def test_a_tick_before_the_first_poll_still_yields_a_snapshot():
    scheduler = HistoricalScheduler(initial_clock=T0)
    out = []
    trigger = timeline([(at(5), (at(5), "tick"))])
    snapshots(trigger, rx.never(), rx.never(), rx.never(), rx.never()).subscribe(out.append, scheduler=scheduler)
    scheduler.start()
    assert [(s.at, s.state, s.reason) for s in out] == [(at(5), None, "tick")]


def test_at_most_every_passes_the_first_and_collapses_a_burst_into_one_at_window_end():
    from smartload.streams.ticks import at_most_every

    scheduler = HistoricalScheduler(initial_clock=T0)
    events = timeline([(at(s), (at(s), r)) for s, r in [(0, "a"), (3, "b"), (4, "c"), (4, "b"), (30, "d")]])
    out = []
    events.pipe(at_most_every(timedelta(seconds=10))).subscribe(out.append, scheduler=scheduler)
    scheduler.start()
    assert out == [(at(0), "a"), (at(10), "b; c"), (at(30), "d")]
