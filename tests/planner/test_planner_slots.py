"""make_slots: quarter-hours from now to the end of the known grid prices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartload.domain import Rate
from smartload.planner import make_slots
from smartload.planner.slots import RateSeries

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)


def rates(values: list[float], step_min: int = 60, start: datetime = T0) -> list[Rate]:
    step = timedelta(minutes=step_min)
    return [Rate(start + i * step, start + (i + 1) * step, v) for i, v in enumerate(values)]


def test_hourly_prices_become_quarter_hours_with_the_first_slot_shortened_to_now():
    now = T0 + timedelta(minutes=7)
    slots = make_slots(now, rates([0.30, 0.20]), rates([0.08, 0.08]), [], 400.0)
    assert len(slots) == 8  # 12:07-12:15, then 7 quarter-hours to 14:00
    assert slots[0].start == now
    assert slots[0].end == T0 + timedelta(minutes=15)
    assert slots[0].duration_h == pytest.approx(8 / 60)
    assert slots[-1].end == T0 + timedelta(hours=2)
    assert [s.import_eur_per_kwh for s in slots] == [0.30] * 4 + [0.20] * 4
    assert all(s.export_eur_per_kwh == 0.08 and s.house_w == 400.0 for s in slots)


def test_a_slot_across_two_rates_takes_their_time_weighted_mean():
    # 30-minute rates starting at 12:10 cut the quarter-hours at :10 and :40.
    grid = rates([0.10, 0.40, 0.40], step_min=30, start=T0 - timedelta(minutes=20))
    slots = make_slots(T0, grid, [], [], 0.0)
    # 12:00-12:10 at 0.10, 12:10-12:15 at 0.40 -> (10 x 0.10 + 5 x 0.40) / 15 = 0.20
    assert slots[0].import_eur_per_kwh == pytest.approx(0.20)
    assert slots[0].export_eur_per_kwh == 0.0  # no feed-in tariff counts as 0
    assert slots[-1].end == T0 + timedelta(minutes=70)


def test_solar_forecast_and_house_profile_are_averaged_per_slot():
    solar = rates([0.0, 4000.0], step_min=30)
    slots = make_slots(T0, rates([0.30]), [], solar, lambda a, b: 100.0 * a.minute)
    assert [s.pv_w for s in slots] == [0.0, 0.0, 4000.0, 4000.0]
    assert [s.house_w for s in slots] == [0.0, 1500.0, 3000.0, 4500.0]


def test_horizon_ends_where_prices_stop_or_at_horizon_end():
    grid = rates([0.30, 0.20]) + rates([0.50], start=T0 + timedelta(hours=3))  # gap 14:00-15:00
    assert make_slots(T0, grid, [], [], 0.0)[-1].end == T0 + timedelta(hours=2)
    short = make_slots(T0, grid, [], [], 0.0, horizon_end=T0 + timedelta(minutes=50))
    assert short[-1].end == T0 + timedelta(minutes=50)
    assert short[-1].duration_h == pytest.approx(5 / 60)


def test_no_slots_without_a_price_for_now():
    assert make_slots(T0 - timedelta(minutes=1), rates([0.30]), [], [], 0.0) == ()
    assert make_slots(T0, [], [], [], 0.0) == ()


def test_times_come_out_in_utc_and_naive_now_is_refused():
    now = datetime(2024, 3, 1, 13, 5, tzinfo=timezone(timedelta(hours=1)))  # 12:05 UTC
    slots = make_slots(now, rates([0.30]), [], [], 0.0)
    assert slots[0].start == T0 + timedelta(minutes=5)
    assert slots[0].start.utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        make_slots(datetime(2024, 3, 1, 12), rates([0.30]), [], [], 0.0)


def _scanned_mean(rates: list[Rate], start: datetime, end: datetime, default: float) -> float:
    """The definition: every rate read, however far from the interval."""
    total = (end - start).total_seconds()
    covered = weighted = 0.0
    for rate in rates:
        lo, hi = max(rate.start, start), min(rate.end, end)
        if hi > lo:
            covered += (hi - lo).total_seconds()
            weighted += rate.value * (hi - lo).total_seconds()
    return (weighted + default * max(0.0, total - covered)) / total


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(1, 12), st.floats(-1, 1)), max_size=30),
       st.integers(0, 50), st.integers(1, 8))
def test_the_indexed_mean_is_the_mean_over_every_rate_overlapping_or_not(spans, at, length):
    """Unsorted, overlapping, gapped rates (in quarter-hours): the index reads only the rates
    near the interval and must still find every one that overlaps it."""
    q = timedelta(minutes=15)
    series = [Rate(T0 + a * q, T0 + (a + n) * q, v) for a, n, v in spans]
    start, end = T0 + at * q + timedelta(minutes=4), T0 + (at + length) * q
    assert RateSeries(series).mean_over(start, end, 0.5) == pytest.approx(_scanned_mean(series, start, end, 0.5))
