"""The simulator's extension points the what-if runs use: quarter-hour prices, a person
moving the plug, session-driven cars, a circuit limit, and evcc reading the SoC when it
identifies a car."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from smartload.sim.prices import DayAheadPrices, GridTariff
from smartload.sim.scenario import TariffSpec, load_scenario
from smartload.sim.site import Site
from smartload.sim.vehicle import Presence
from smartload.whatif.sessions import garage_scenario
from tests.whatif.conftest import BERLIN, price_csv

START = datetime(2024, 1, 15, 0, 0, tzinfo=BERLIN)


def test_quarter_hour_prices_keep_their_quarters(tmp_path: Path) -> None:
    quarters = [100.0 + q for q in range(96)]
    path = price_csv(tmp_path / "q.csv", date(2024, 1, 15), quarters)
    tariff = GridTariff(TariffSpec(vat=0.0, markup_eur_per_kwh=0.0), BERLIN, DayAheadPrices.from_csv(path, BERLIN))
    assert tariff.day_ahead_eur_per_mwh(date(2024, 1, 15))[:5] == [100.0, 101.0, 102.0, 103.0, 104.0]
    hourly = price_csv(tmp_path / "h.csv", date(2024, 1, 15), [10.0 * h for h in range(24)], step_min=60)
    by_hour = GridTariff(TariffSpec(vat=0.0, markup_eur_per_kwh=0.0), BERLIN, DayAheadPrices.from_csv(hourly, BERLIN))
    assert by_hour.day_ahead_eur_per_mwh(date(2024, 1, 15))[4:9] == [10.0, 10.0, 10.0, 10.0, 20.0]


def test_a_person_moves_the_plug_and_the_wallbox_is_free_meanwhile() -> None:
    scenario = load_scenario("household").model_copy(update={"swap_gap_s": 120.0})
    site = Site(scenario, start=START, seed=1)
    site.run_for(3600, 10)  # zoe plugged in at 00:01:30, ioniq home at 00:45 and waiting
    assert site.loadpoint(1).vehicle is site.vehicle("zoe")
    assert site.vehicle("ioniq").presence is Presence.HOME
    site.hand_over(1, "ioniq")
    assert site.loadpoint(1).vehicle is None
    site.run_for(110, 10)
    assert site.loadpoint(1).vehicle is None
    site.run_for(10, 10)
    assert site.loadpoint(1).vehicle is site.vehicle("ioniq")
    assert site.vehicle("zoe").presence is Presence.HOME
    assert site._waiting == ["zoe"]


def test_session_cars_arrive_with_their_soc_and_leave() -> None:
    site = Site(garage_scenario(2, "Europe/Berlin", TariffSpec(), None), start=START, seed=1)
    site.run_for(600, 10)
    site.arrive("ev01", 1, 35.0)
    car = site.vehicle("ev01")
    assert (car.presence, car.soc_pct, car.evcc_soc_pct) == (Presence.PLUGGED, 35.0, None)
    site.run_for(60, 10)
    assert site.loadpoint(1).vehicle_name == "ev01" and car.evcc_soc_pct == 35.0
    site.leave("ev01")
    assert (car.presence, site.loadpoint(1).vehicle) == (Presence.AWAY, None)


def test_a_circuit_limit_serves_the_car_plugged_in_first() -> None:
    site = Site(garage_scenario(2, "Europe/Berlin", TariffSpec(), 10_000.0), start=START, seed=1)
    for lp in site.loadpoints:
        lp.set_mode("now")
    site.arrive("ev02", 2, 20.0)
    site.run_for(60, 10)
    site.arrive("ev01", 1, 20.0)
    site.run_for(60, 10)
    # 32 A single phase is 7360 W for the first car; the second gets the 2640 W left.
    assert (site.loadpoint(2).charge_power_w, site.loadpoint(1).charge_power_w) == (7360.0, 2640.0)
    site.leave("ev02")
    site.run_for(20, 10)
    assert site.loadpoint(1).charge_power_w == 7360.0


def test_evcc_reads_the_soc_on_identification_only_when_told_to() -> None:
    for reads, seen in ((False, 58.0), (True, 31.0)):
        scenario = load_scenario("household").model_copy(update={"evcc_reads_soc_on_identify": reads})
        site = Site(scenario, start=datetime(2024, 1, 15, tzinfo=UTC), seed=1)
        site.run_for(150, 10)  # zoe plugged in at 90 s, identified 30 s later
        assert site.loadpoint(1).vehicle_name == "zoe"
        assert site.vehicle("zoe").evcc_soc_pct == seen
