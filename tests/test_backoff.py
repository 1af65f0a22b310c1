"""backoff_delay: the one exponential backoff, to the microsecond."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smartload.backoff import backoff_delay

S = timedelta(seconds=1)


def test_doubles_from_initial_up_to_the_maximum() -> None:
    waits = [backoff_delay(10 * S, 300 * S, n) for n in range(1, 8)]
    assert waits == [10 * S, 20 * S, 40 * S, 80 * S, 160 * S, 300 * S, 300 * S]


def test_fractions_of_a_second_stay_exact() -> None:
    waits = [backoff_delay(timedelta(seconds=0.5), 60 * S, n).total_seconds() for n in range(1, 10)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert backoff_delay(timedelta(microseconds=3), timedelta(microseconds=20), 3) == timedelta(microseconds=12)


def test_the_maximum_caps_even_the_first_wait() -> None:
    assert backoff_delay(10 * S, 5 * S, 1) == 5 * S
    assert backoff_delay(10 * S, 5 * S, 4) == 5 * S


def test_a_zero_initial_never_waits() -> None:
    assert backoff_delay(timedelta(0), 60 * S, 1) == timedelta(0)
    assert backoff_delay(timedelta(0), 60 * S, 10_000) == timedelta(0)


def test_a_long_run_of_failures_does_not_overflow() -> None:
    # timedelta(seconds=10) * 2 ** 43 is beyond timedelta's range (OverflowError).
    with pytest.raises(OverflowError):
        _ = 10 * S * 2**43
    assert backoff_delay(10 * S, 300 * S, 44) == 300 * S
    assert backoff_delay(10 * S, 300 * S, 1_000_000) == 300 * S
    assert backoff_delay(timedelta(microseconds=1), timedelta.max, 10_000) == timedelta.max


@pytest.mark.parametrize("initial", [timedelta(microseconds=1), timedelta(seconds=0.5), 2 * S, 10 * S,
                                     timedelta(minutes=1), timedelta(minutes=10)])
@pytest.mark.parametrize("maximum", [timedelta(0), timedelta(microseconds=7), 5 * S, timedelta(minutes=5),
                                     timedelta(hours=6), timedelta(days=3)])
def test_exactly_the_formula_the_callers_used(initial: timedelta, maximum: timedelta) -> None:
    for failures in range(1, 70):
        try:
            before = min(initial * 2 ** (failures - 1), maximum)
        except OverflowError:  # beyond timedelta's range: the old formula raised
            before = maximum
        assert backoff_delay(initial, maximum, failures) == before


@pytest.mark.parametrize(("initial", "maximum"), [(0.5, 60.0), (0.5, 0.2), (2.0, 300.0), (600.0, 300.0), (0.05, 0.2)])
def test_the_reconnect_loops_wait_as_their_doubling_did(initial: float, maximum: float) -> None:
    """The MQTT loops wait `initial` first (even beyond the maximum), then by backoff_delay:
    the sequence their `wait = min(wait * 2, maximum)` gave."""
    doubled, waits = [initial], [initial]
    for retries in range(2, 60):
        doubled.append(min(doubled[-1] * 2, maximum))
        waits.append(backoff_delay(timedelta(seconds=initial), timedelta(seconds=maximum), retries).total_seconds())
    assert waits == doubled


def test_it_follows_a_failure() -> None:
    with pytest.raises(ValueError):
        backoff_delay(S, 60 * S, 0)
