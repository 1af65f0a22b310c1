"""Properties of the refresh stream over random mixes of requests, departures, readings
and cloud answers, each replayed on a HistoricalScheduler: every request gives exactly
one outcome, retries are numbered and bounded, one call per car at a time, budgets hold."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st
from reactivex.scheduler import HistoricalScheduler

from smartload.domain import NO_LOADPOINT, ConnectionEdge, RefreshOutcome, SocReading
from smartload.streams.refresh import RefreshPolicy, refreshes
from smartload.streams.unplugged import Departure
from smartload.vehicles.fake import FakeAnswer, FakeProvider
from tests.builders import T0, at
from tests.timeline import timeline

VEHICLES = ("a", "b")
POLICY = RefreshPolicy(timedelta(minutes=5), 6, timedelta(minutes=1), timedelta(minutes=30))
CALLED = ("ok", "failed", "unsupported")

seconds = st.integers(0, 30 * 3600)  # across a midnight: budgets reset


@st.composite
def requests(draw: st.DrawFn) -> ConnectionEdge:
    reason = draw(st.sampled_from(["plugged", "moved", "startup", "unplugged", "manual"]))
    t = draw(seconds)
    identified_after = draw(st.integers(0, 60))
    lp_id = NO_LOADPOINT if reason in ("unplugged", "manual") else draw(st.integers(1, 2))
    return ConnectionEdge(draw(st.sampled_from(VEHICLES)), lp_id, at(t), at(max(0, t - identified_after)), reason)


answers = st.builds(
    FakeAnswer,
    soc_pct=st.one_of(st.none(), st.floats(0, 100)),
    age=st.timedeltas(timedelta(0), timedelta(hours=1)),
    latency=st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(minutes=2))),
    retry_after_s=st.one_of(st.none(), st.floats(0, 7200)),
)
departures = st.builds(Departure, st.sampled_from(VEHICLES), seconds.map(at))
readings = st.builds(
    lambda v, t, age, known: SocReading(v, 50.0, "evcc", at(t) - timedelta(seconds=age), at(t), known),
    st.sampled_from(VEHICLES), seconds, st.integers(0, 3600), st.booleans(),
)


def replay(edges: list[ConnectionEdge], left: list[Departure], others: list[SocReading],
           provider: FakeProvider) -> tuple[list[RefreshOutcome], list[datetime]]:
    scheduler = HistoricalScheduler(initial_clock=T0)
    out: list[RefreshOutcome] = []
    completed: list[datetime] = []
    end = at(31 * 3600)
    refreshes(
        timeline([(e.at, e) for e in sorted(edges, key=lambda e: e.at)], complete_at=end),
        dict.fromkeys(VEHICLES, provider), dict.fromkeys(VEHICLES, POLICY), UTC,
        readings=timeline([(r.received_at, r) for r in sorted(others, key=lambda r: r.received_at)]),
        departures=timeline([(d.at, d) for d in sorted(left, key=lambda d: d.at)]),
    ).subscribe(out.append, on_completed=lambda: completed.append(scheduler.now), scheduler=scheduler)
    scheduler.start()
    return out, completed


@settings(max_examples=300, deadline=None)
@given(
    edges=st.lists(requests(), max_size=40),
    left=st.lists(departures, max_size=15),
    others=st.lists(readings, max_size=15),
    script_a=st.lists(answers, max_size=12),
    script_b=st.lists(answers, max_size=12),
)
def test_every_request_gives_exactly_one_outcome_and_the_rules_hold(edges, left, others, script_a, script_b):
    provider = FakeProvider(script={"a": script_a, "b": script_b}, latency=timedelta(seconds=20))
    out, completed = replay(edges, left, others, provider)

    # Exactly one first outcome per request, and the stream ends once.
    firsts = Counter((o.vehicle, o.edge_at, o.edge_reason) for o in out if o.retry == 0)
    assert firsts == Counter((e.vehicle, e.at, e.reason) for e in edges)
    assert len(completed) == 1
    assert all(o.reason for o in out)

    # Retries: only of plug-in refreshes, each numbered within the stay's limit, and no
    # more of them than the plug-in requests allow.
    retries = [o for o in out if o.retry]
    assert all(o.edge_reason in ("plugged", "moved", "startup") and o.retry <= POLICY.retries for o in retries)
    for vehicle in VEHICLES:
        plug_ins = sum(1 for e in edges if e.vehicle == vehicle and e.reason in ("plugged", "moved", "startup"))
        assert sum(1 for o in retries if o.vehicle == vehicle) <= POLICY.retries * plug_ins

    for vehicle in VEHICLES:
        calls = sorted((o for o in out if o.vehicle == vehicle and o.status in CALLED), key=lambda o: o.requested_at)
        # Every call is in the report, and one call per car at a time.
        assert [(vehicle, o.requested_at) for o in calls] == [c for c in provider.calls if c[0] == vehicle]
        for before, after in pairwise(calls):
            assert before.finished_at is not None and before.finished_at <= after.requested_at
        # The daily budget holds for all lanes together, and routine calls keep to its first half.
        assert max(Counter(_day(o) for o in calls).values(), default=0) <= POLICY.daily_budget
        for i, o in enumerate(calls):
            if o.edge_reason == "unplugged":
                assert sum(1 for c in calls[:i] if _day(c) == _day(o)) < POLICY.daily_budget // 2


def _day(outcome: RefreshOutcome) -> object:
    return outcome.requested_at.astimezone(UTC).date()  # the budget's day: the site's (UTC here)
