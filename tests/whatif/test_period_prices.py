"""The prices a what-if report values energy with: the period's mean and highest, and the
lowest of the day after, which prices what a strategy leaves stored at the end."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from smartload.settings import Settings
from smartload.whatif.runner import make_site, period_prices, prepare
from tests.whatif.conftest import BERLIN, config

DAY = date(2024, 3, 4)


def two_days(path: Path, first: list[float], second: list[float]) -> Path:
    """EUR/MWh per local quarter-hour of DAY and of the day after (no DST change there)."""
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=BERLIN)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp_utc", "price_eur_per_mwh"])
        for n, price in enumerate(first + second):
            out.writerow([(start + timedelta(minutes=15 * n)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), price])
    return path


def prices_of(path: Path) -> tuple[float, float, float]:
    inputs = prepare(config(prices_csv=path, start=DAY, days=1, scenario="household"), Settings())
    found = period_prices(make_site(inputs), inputs.start, inputs.end)
    return found.mean, found.stored, found.highest


def test_energy_left_at_the_end_is_worth_the_next_day_s_lowest_price(tmp_path: Path) -> None:
    day = [80.0] * 48 + [120.0] * 48
    after = [100.0] * 96
    after[10] = 20.0  # 02:30 the next night
    mean, stored, highest = prices_of(two_days(tmp_path / "p.csv", day, after))
    # Consumer price = EUR/MWh / 1000 x 1.19 + 0.17.
    assert mean == pytest.approx((0.2652 + 0.3128) / 2)
    assert highest == pytest.approx(0.3128)
    assert stored == pytest.approx(0.1938)


def test_a_negative_price_the_next_day_values_stored_energy_at_nothing_not_below(tmp_path: Path) -> None:
    after = [100.0] * 96
    after[50] = -300.0  # -0.187 EUR/kWh to the consumer
    assert prices_of(two_days(tmp_path / "p.csv", [80.0] * 96, after))[1] == 0.0
