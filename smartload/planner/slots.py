"""Cut the known price horizon into 15-minute slots, the first one shortened to now.

Tariff rates may be hourly or quarter-hourly; each slot takes the time-weighted mean of the
rates overlapping it. The horizon ends where the grid price stops (or at horizon_end):
a slot without a price cannot be planned. A missing feed-in price counts as 0 EUR/kWh and a
missing solar forecast as 0 W.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from smartload.domain import Rate
from smartload.planner.inputs import Slot

SLOT = timedelta(minutes=15)

# A constant in W, rates in W, or a function (slot start, slot end) -> average W.
HouseLoad = float | Sequence[Rate] | Callable[[datetime, datetime], float]


def _coverage_end(rates: Sequence[Rate], now: datetime) -> datetime | None:
    """End of the gap-free run of rates that covers now, or None if now is not covered."""
    ordered = sorted(rates, key=lambda r: r.start)
    end: datetime | None = None
    for rate in ordered:
        if end is None:
            if rate.start <= now < rate.end:
                end = rate.end
        elif rate.start <= end:
            end = max(end, rate.end)
        else:
            break
    return end


def mean_over(rates: Sequence[Rate], start: datetime, end: datetime, default: float) -> float:
    """Time-weighted mean of the rates over [start, end); uncovered time counts as default."""
    total_s = (end - start).total_seconds()
    covered_s = 0.0
    weighted = 0.0
    for rate in rates:
        lo, hi = max(rate.start, start), min(rate.end, end)
        if hi > lo:
            seconds = (hi - lo).total_seconds()
            covered_s += seconds
            weighted += rate.value * seconds
    return (weighted + default * max(0.0, total_s - covered_s)) / total_s


def _house_w(house: HouseLoad, start: datetime, end: datetime) -> float:
    if isinstance(house, int | float):
        return float(house)
    if callable(house):
        return float(house(start, end))
    return mean_over(house, start, end, 0.0)


def quarter_hour_floor(at: datetime) -> datetime:
    utc = at.astimezone(UTC)
    return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)


def make_slots(
    now: datetime,
    grid_rates: Sequence[Rate],
    feedin_rates: Sequence[Rate],
    solar_rates: Sequence[Rate],
    house_load_forecast: HouseLoad,
    horizon_end: datetime | None = None,
) -> tuple[Slot, ...]:
    """Slots on the UTC quarter-hour grid from now to the end of the known grid prices.

    Returns () when no grid price covers now.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    end = _coverage_end(grid_rates, now)
    if end is None:
        return ()
    if horizon_end is not None:
        end = min(end, horizon_end.astimezone(UTC))
    slots: list[Slot] = []
    start = now
    while start < end:
        stop = min(quarter_hour_floor(start) + SLOT, end)
        slots.append(
            Slot(
                start=start,
                end=stop,
                import_eur_per_kwh=mean_over(grid_rates, start, stop, 0.0),
                export_eur_per_kwh=mean_over(feedin_rates, start, stop, 0.0),
                pv_w=max(0.0, mean_over(solar_rates, start, stop, 0.0)),
                house_w=max(0.0, _house_w(house_load_forecast, start, stop)),
            )
        )
        start = stop
    return tuple(slots)
