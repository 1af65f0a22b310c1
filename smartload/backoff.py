"""The one exponential backoff: how long to wait after a run of consecutive failures.

Pure, no clock and no state: each caller counts its own failures and turns the wait into
a deadline or a sleep. The evcc poll, the refresh gate, the providers' call budgets, the
actuator's write retries and both MQTT reconnect loops wait by it.
"""

from __future__ import annotations

from datetime import timedelta

_MICROSECOND = timedelta(microseconds=1)


def backoff_delay(initial: timedelta, maximum: timedelta, failures: int) -> timedelta:
    """The wait after `failures` (1, 2, ...) failures in a row: initial, twice that, four
    times that ... never more than maximum, i.e. min(initial * 2 ** (failures - 1), maximum).

    Reckoned in whole microseconds, as timedelta reckons, so it is exactly that minimum;
    but it never overflows, however long the run of failures."""
    if failures < 1:
        raise ValueError(f"a backoff follows at least one failure, not {failures}")
    first, cap = initial // _MICROSECOND, maximum // _MICROSECOND
    doublings = failures - 1
    if first > 0 and doublings > abs(cap).bit_length():
        return maximum  # first * 2 ** doublings > abs(cap) >= cap: no need to reckon it
    return timedelta(microseconds=min(first * 2**doublings, cap))
