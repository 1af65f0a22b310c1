"""A what-if run needs a price for every hour of its period and of the day after: a gap is
an error naming the hours, or with stand-ins allowed a loud, reported stand-in."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
from loguru import logger

from smartload.settings import Settings
from smartload.sim.prices import SHIPPED_YEAR, DayAheadPrices
from smartload.whatif.coverage import MissingPrices
from smartload.whatif.report import SHIPPED_PRICES
from smartload.whatif.runner import simulate
from tests.whatif.conftest import BERLIN, config


def hourly_csv(path: Path, first: datetime, hours: int, skip: set[int] = frozenset(), price: float = 80.0) -> Path:
    """One row per hour from `first` (local), but for the hours numbered in skip."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp_utc", "price_eur_per_mwh"])
        for n in range(hours):
            if n not in skip:
                at = datetime.fromtimestamp(first.timestamp() + 3600 * n, UTC)
                out.writerow([at.strftime("%Y-%m-%dT%H:%M:%SZ"), price])
    return path


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def test_coverage_is_decided_hour_by_hour(tmp_path: Path) -> None:
    # 2024-03-04..06, without 02:00 and 03:00 on the 5th.
    path = hourly_csv(tmp_path / "p.csv", at("2024-03-04T00:00"), 72, skip={26, 27})
    prices = DayAheadPrices.from_csv(path, BERLIN)
    assert prices.missing_hours(at("2024-03-04T00:00"), at("2024-03-07T00:00")) == [at("2024-03-05T02:00"),
                                                                                     at("2024-03-05T03:00")]
    assert [prices.complete(d) for d in (date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 6))] == [True, False,
                                                                                                     True]
    # One hour does not make a day: the 5th is no source of its own prices.
    assert prices.source_date(date(2024, 3, 5))[1] != date(2024, 3, 5)


def test_a_quarter_hour_is_covered_by_its_own_price_or_its_hour_s(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    rows = ["timestamp_utc,price_eur_per_mwh"]
    start = at("2024-03-04T00:00").timestamp()
    for n in range(96 * 2):
        stamp = datetime.fromtimestamp(start + 900 * n, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        # 05:15 has no price but 05:00 has; 07:00 has none but its later quarters have.
        if n not in (21, 28):
            rows.append(f"{stamp},{n}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    prices = DayAheadPrices.from_csv(path, BERLIN)
    assert prices.missing_hours(at("2024-03-04T00:00"), at("2024-03-06T00:00")) == [at("2024-03-04T07:00")]


def test_dst_days_have_23_and_25_hours_to_cover(tmp_path: Path) -> None:
    spring = hourly_csv(tmp_path / "s.csv", at("2024-03-31T00:00"), 23)
    assert DayAheadPrices.from_csv(spring, BERLIN).complete(date(2024, 3, 31))
    # The day before and the 27th, but for 02:00 CEST (the first of the two 02:00).
    autumn = hourly_csv(tmp_path / "a.csv", at("2024-10-26T00:00"), 24 + 25, skip={24 + 2})
    prices = DayAheadPrices.from_csv(autumn, BERLIN)
    missing = prices.missing_hours(at("2024-10-27T00:00"), at("2024-10-28T00:00"))
    assert [(m.isoformat(), m.fold) for m in missing] == [("2024-10-27T02:00:00+02:00", 0)]


def test_the_shipped_year_covers_2024_to_the_19th_of_december_22_00() -> None:
    prices = DayAheadPrices.shipped(BERLIN, SHIPPED_YEAR)
    assert prices.covered_range() == (at("2024-01-01T00:00"), at("2024-12-19T22:00"))
    assert prices.missing_hours(at("2024-01-01T00:00"), at("2024-12-19T00:00")) == []
    assert prices.missing_hours(at("2024-12-19T00:00"), at("2024-12-20T00:00")) == [at("2024-12-19T23:00")]
    # The shipped weeks are the same prices.
    weeks = resources.files("smartload.sim").joinpath("data", "prices_dayahead_de_lu_2024_weeks.csv")
    year = resources.files("smartload.sim").joinpath("data", SHIPPED_YEAR)
    year_rows = set(gzip.decompress(year.read_bytes()).decode("utf-8").splitlines())
    assert set(weeks.read_text(encoding="utf-8").splitlines()) <= year_rows


def test_a_period_the_prices_do_not_cover_is_an_error_naming_the_hours() -> None:
    with pytest.raises(MissingPrices) as caught:
        simulate(config(scenario="household", start=date(2024, 12, 18), days=1), Settings())
    assert caught.value.lines == [
        "simulate: the shipped price table has no price for 1 hour(s) of 2024-12-18 00:00 to 2024-12-20 00:00 (the "
        "period and the day after: smartload sees the next day's prices from 13:00, and the report values stored "
        "energy at them): 2024-12-19 23:00-24:00",
        "simulate: its first price is for 2024-01-01 00:00, its last for 2024-12-19 22:00 (local time); choose a "
        "period inside it (and end it a day before), give --prices with the missing hours, or --price-stand-ins to "
        "let the same weekday 52 weeks earlier stand in",
    ]


def test_gaps_are_listed_by_day_as_ranges(tmp_path: Path) -> None:
    path = hourly_csv(tmp_path / "p.csv", at("2024-03-03T00:00"), 24 * 3, skip={26, 27, 28, 40})
    with pytest.raises(MissingPrices) as caught:
        simulate(config(scenario="household", start=date(2024, 3, 4), days=2, prices_csv=path), Settings())
    assert caught.value.lines[0].startswith(
        f"simulate: {path} has no price for 28 hour(s) of 2024-03-04 00:00 to 2024-03-07 00:00")
    assert caught.value.lines[0].endswith("energy at them): 2024-03-04 02:00-05:00, 16:00-17:00, 2024-03-06 (all day)")


def test_stand_ins_when_allowed_are_warned_and_reported(tmp_path: Path) -> None:
    warnings: list[str] = []
    sink = logger.add(lambda m: warnings.append(m.record["message"]), level="WARNING")
    try:
        report = simulate(config(scenario="household", start=date(2024, 12, 18), days=1, step_s=60.0,
                                 strategy="uncontrolled", price_stand_ins=True), Settings())
    finally:
        logger.remove(sink)
    assert report["data"]["prices"] == SHIPPED_PRICES
    assert report["data"]["price_stand_ins"] == {
        # 52 weeks before Thursday 2024-12-19 is before the table: the shipped January week's Thursday.
        "missing_hours": 1, "missing": "2024-12-19 23:00-24:00", "days": {"2024-12-19": "2024-01-18 (shipped week)"}}
    assert [w for w in warnings if w.startswith("price stand-ins: the shipped price table has no price for 1 hour(s)")]
    assert warnings[-1].endswith("stand-ins: 2024-12-19 takes 2024-01-18 (shipped week)")


def test_stand_ins_from_52_weeks_earlier_in_the_same_table(tmp_path: Path) -> None:
    first = at("2023-03-01T00:00")
    hours = int((at("2024-03-06T00:00").timestamp() - first.timestamp()) // 3600)
    gap_from = int((at("2024-03-05T00:00").timestamp() - first.timestamp()) // 3600)
    path = hourly_csv(tmp_path / "p.csv", first, hours, skip=set(range(gap_from, gap_from + 24)))
    report = simulate(config(scenario="household", start=date(2024, 3, 4), days=1, step_s=60.0,
                             prices_csv=path, price_stand_ins=True), Settings())
    assert report["data"]["price_stand_ins"]["days"] == {"2024-03-05": (date(2024, 3, 5)
                                                                        - timedelta(weeks=52)).isoformat()}
