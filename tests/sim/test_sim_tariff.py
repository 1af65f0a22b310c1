"""Grid tariff: real day-ahead prices, consumer price formula, 15-minute slots, 13:00 horizon."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from importlib import resources

import pytest

from smartload.sim.prices import DayAheadPrices, GridTariff
from smartload.sim.scenario import TariffSpec

from .helpers import BERLIN, local


def shipped_price(utc_hour: str) -> float:
    """The shipped CSV's EUR/MWh for one UTC hour, read independently of the model."""
    text = resources.files("smartload.sim").joinpath("data", "prices_dayahead_de_lu_2024_weeks.csv")
    rows = dict(csv.reader(text.read_text(encoding="utf-8").splitlines()))
    return float(rows[utc_hour])


def tariff(**spec) -> GridTariff:
    return GridTariff(TariffSpec(**spec), BERLIN, DayAheadPrices.shipped(BERLIN))


def test_consumer_price_is_day_ahead_with_vat_plus_markup():
    t = tariff(vat=0.19, markup_eur_per_kwh=0.17)
    # Monday 2024-07-15 20:00 CEST is 18:00 UTC.
    expected = shipped_price("2024-07-15T18:00:00Z") / 1000 * 1.19 + 0.17
    assert t.price_at(local("2024-07-15T20:00:00").timestamp()) == pytest.approx(expected, abs=1e-5)
    assert t.price_at(local("2024-07-15T20:59:59").timestamp()) == pytest.approx(expected, abs=1e-5)
    no_tax = tariff(vat=0.0, markup_eur_per_kwh=0.0)
    assert no_tax.price_at(local("2024-07-15T20:30:00").timestamp()) == pytest.approx(
        shipped_price("2024-07-15T18:00:00Z") / 1000, abs=1e-5)


def test_the_next_day_appears_at_13_00():
    t = tariff()
    before = local("2024-07-15T12:59:59").timestamp()
    after = local("2024-07-15T13:00:00").timestamp()
    assert t.horizon_end(before) == local("2024-07-16T00:00:00").timestamp()
    assert t.horizon_end(after) == local("2024-07-17T00:00:00").timestamp()
    assert len(t.grid_rates(before)) == 4 * 11 + 1  # from the 12:45 slot to midnight
    assert len(t.grid_rates(after)) == 4 * 11 + 96


def test_rates_are_quarter_hours_repeating_the_hourly_price():
    t = tariff()
    rates = t.grid_rates(local("2024-10-14T13:07:00").timestamp())
    assert rates[0][0] == local("2024-10-14T13:00:00").timestamp()
    assert all(e - s == 900 for s, e, _ in rates)
    assert all(rates[i][1] == rates[i + 1][0] for i in range(len(rates) - 1))
    first_hour = {v for _, _, v in rates[:4]}
    assert len(first_hour) == 1
    expected = shipped_price("2024-10-15T05:00:00Z") / 1000 * 1.19 + 0.17  # Tue 07:00 CEST
    tuesday_seven = next(v for s, _, v in rates if s == local("2024-10-15T07:00:00").timestamp())
    assert tuesday_seven == pytest.approx(expected, abs=1e-5)
    assert t.feedin_rates(rates[0][0])[0][2] == 0.08


def test_any_date_maps_onto_the_same_weekday_of_a_shipped_week():
    t = tariff()
    # 2026-07-14 is a Tuesday; 104 weeks earlier is Tuesday 2024-07-16.
    assert t.price_at(local("2026-07-14T08:00:00").timestamp()) == pytest.approx(
        t.price_at(local("2024-07-16T08:00:00").timestamp()))
    # 2026-08-20 (Thursday) has no earlier 52-week match: the July week's Thursday stands in.
    assert t.price_at(local("2026-08-20T18:00:00").timestamp()) == pytest.approx(
        t.price_at(local("2024-07-18T18:00:00").timestamp()))
    # Winter: 2027-12-01 (Wednesday) takes January's Wednesday 2024-01-17.
    assert t.price_at(local("2027-12-01T18:00:00").timestamp()) == pytest.approx(
        t.price_at(local("2024-01-17T18:00:00").timestamp()))


def test_dst_days_have_92_and_100_slots():
    t = tariff()
    spring = t.grid_rates(local("2026-03-28T13:00:00").timestamp())
    autumn = t.grid_rates(local("2026-10-24T13:00:00").timestamp())
    assert len(spring) == 44 + 92
    assert len(autumn) == 44 + 100


def test_a_price_csv_from_settings_is_used_where_it_covers_the_date(tmp_path):
    path = tmp_path / "prices.csv"
    rows = ["timestamp_utc,price_eur_per_mwh"]
    rows += [f"2023-03-0{d}T{h:02d}:00:00Z,{100 + h}" for d in (5, 6) for h in range(24)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    shipped = DayAheadPrices.shipped(BERLIN)
    t = GridTariff(TariffSpec(vat=0, markup_eur_per_kwh=0), BERLIN, DayAheadPrices.from_csv(path, BERLIN), shipped)
    at = datetime(2023, 3, 6, 9, 30, tzinfo=UTC).timestamp()  # 10:30 CET
    assert t.price_at(at) == pytest.approx(0.109)
    elsewhere = local("2026-07-14T08:00:00").timestamp()
    assert t.price_at(elsewhere) == pytest.approx(tariff(vat=0, markup_eur_per_kwh=0).price_at(elsewhere))
