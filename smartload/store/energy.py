"""Energy and cost per quarter-hour, as measured and as planned, from the polls.

Method: each poll's power holds until the next poll (zero-order hold) and is integrated
over that interval, split at quarter-hours. Measured: evcc's grid power (import when
positive, export when negative) and each loadpoint's charge power, booked to the car evcc
identified there. Planned: the powers of the plan in force at the interval's start, over
the same intervals, so both figures cover exactly the same time. Prices: the grid and
feed-in rates covering the moment (evcc's current tariff when no rate covers it). A car's
energy costs the marginal price: the import price while the site imports, else the feed-in
price it forgoes (as the planner counts it). Intervals longer than `max_gap` (an evcc
outage) are left out of both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from smartload.domain import Rate, SiteState, Tariffs

if TYPE_CHECKING:
    from smartload.planner import Plan

QUARTER = timedelta(minutes=15)
IMPORT, EXPORT = "import", "export"
GUEST = "(guest)"
# book(slot_start, basis, account, kwh, eur)
_Book = Callable[[datetime, str, str, float, float], None]


@dataclass(frozen=True, slots=True)
class Accrual:
    """kwh and eur over part of one quarter-hour. basis: "actual" or "planned"; account:
    "import", "export" or "car:<vehicle>". eur is a cost, except for export (revenue)."""

    slot_start: datetime
    basis: str
    account: str
    kwh: float
    eur: float


def _rate_at(rates: tuple[Rate, ...], at: datetime) -> float | None:
    for rate in rates:
        if rate.start <= at < rate.end:
            return rate.value
    return None


def _pieces(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at every quarter-hour."""
    # Here, not at the top: the planner (and HiGHS with it) loads after the first poll.
    from smartload.planner.slots import quarter_hour_floor

    out = []
    while start < end:
        boundary = min(end, quarter_hour_floor(start) + QUARTER)
        out.append((start, boundary))
        start = boundary
    return out


class EnergyMeter:
    """Feed it every SiteState in order; it returns what the interval since the previous
    one adds. `names` maps evcc vehicle names to configured vehicle ids."""

    def __init__(self, names: Mapping[str, str], max_gap: timedelta = timedelta(minutes=5)) -> None:
        self._names = dict(names)
        self._max_gap = max_gap
        self._previous: tuple[SiteState, Plan | None, Tariffs] | None = None

    def observe(self, state: SiteState, plan: Plan | None, tariffs: Tariffs) -> list[Accrual]:
        from smartload.planner.slots import quarter_hour_floor

        previous, self._previous = self._previous, (state, plan, tariffs)
        if previous is None:
            return []
        before, plan_then, prices = previous
        if not timedelta(0) < state.at - before.at <= self._max_gap:
            return []
        totals: dict[tuple[datetime, str, str], list[float]] = {}

        def book(slot: datetime, basis: str, account: str, kwh: float, eur: float) -> None:
            if kwh <= 0:
                return
            entry = totals.setdefault((slot, basis, account), [0.0, 0.0])
            entry[0] += kwh
            entry[1] += eur

        for start, end in _pieces(before.at, state.at):
            hours = (end - start).total_seconds() / 3600
            slot = quarter_hour_floor(start)
            self._actual(book, before, prices, start, slot, hours)
            if plan_then is not None:
                self._planned(book, plan_then, start, slot, hours)
        return [Accrual(s, b, a, kwh, eur) for (s, b, a), (kwh, eur) in totals.items()]

    def _actual(self, book: _Book, state: SiteState, prices: Tariffs, at: datetime, slot: datetime,
                hours: float) -> None:
        import_price = _rate_at(prices.grid, at)
        if import_price is None:
            import_price = state.tariff_grid or 0.0
        feedin_price = _rate_at(prices.feedin, at)
        if feedin_price is None:
            feedin_price = state.tariff_feedin or 0.0
        grid_w = state.grid_power_w or 0.0
        if grid_w > 0:
            book(slot, "actual", IMPORT, grid_w * hours / 1000, grid_w * hours / 1000 * import_price)
        elif grid_w < 0:
            book(slot, "actual", EXPORT, -grid_w * hours / 1000, -grid_w * hours / 1000 * feedin_price)
        marginal = import_price if grid_w > 0 else feedin_price
        for lp in state.loadpoints:
            power_w = lp.charge_power_w or 0.0
            if not lp.connected or power_w <= 0:
                continue
            name = lp.identified_vehicle
            vehicle = self._names.get(name, name) if name is not None else GUEST
            kwh = power_w * hours / 1000
            book(slot, "actual", f"car:{vehicle}", kwh, kwh * marginal)

    @staticmethod
    def _planned(book: _Book, plan: Plan, at: datetime, slot: datetime, hours: float) -> None:
        planned = plan.current_slot(at)
        if planned is None:
            return
        book(slot, "planned", IMPORT, planned.grid_import_w * hours / 1000,
             planned.grid_import_w * hours / 1000 * planned.import_eur_per_kwh)
        book(slot, "planned", EXPORT, planned.grid_export_w * hours / 1000,
             planned.grid_export_w * hours / 1000 * planned.export_eur_per_kwh)
        importing = planned.grid_import_w > 1.0
        marginal = planned.import_eur_per_kwh if importing else planned.export_eur_per_kwh
        for vehicle, car in planned.cars.items():
            kwh = car.power_w * hours / 1000
            book(slot, "planned", f"car:{vehicle}", kwh, kwh * marginal)
