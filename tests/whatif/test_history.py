"""What smartload starts a what-if period with when it has run before (whatif/history.py):
the house-load profile and driver habits the weeks before would have taught it."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.util
import json
import sys
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from smartload.habits import HabitBook, clock_text
from smartload.settings import Settings
from smartload.sim.scenario import load_scenario
from smartload.whatif.cli import add_simulate_arguments, config_from, simulate_main
from smartload.whatif.history import learned_house
from smartload.whatif.runner import SimulationConfig, prepare, simulate
from tests.whatif.conftest import acn_csv, config

BERLIN = ZoneInfo("Europe/Berlin")
ROOT = Path(__file__).resolve().parents[2]


def household(strategy: str = "smartload", weeks: int = 4) -> SimulationConfig:
    return SimulationConfig(strategy=strategy, start=date(2024, 4, 1), days=7, scenario="household",
                            learned_weeks=weeks)


def test_four_weeks_before_april_2024_teach_the_household_its_load_and_its_drivers():
    learned = prepare(household(), Settings()).learned
    assert learned is not None
    assert learned.since == datetime(2024, 3, 4, tzinfo=BERLIN)  # whole local days across the DST change
    # Every quarter-hour of workdays and weekends seen, at what the house model drew.
    assert len(learned.house) == 192
    assert learned.house[(False, 72)] == pytest.approx(578.8182, abs=1e-4)  # workdays 18:00
    assert learned.house[(True, 40)] == pytest.approx(649.1736, abs=1e-4)  # weekends 10:00
    # Each car left and came back 4 times a weekday it drives (zoe never drives on Saturdays).
    assert learned.record()["habit_observations"] == {"zoe": 48, "ioniq": 48}
    assert sorted(learned.habits["zoe"].days) == [0, 1, 2, 3, 4, 6]
    monday = learned.habits["ioniq"].days[0]
    assert (clock_text(monday.arrive_min), clock_text(monday.depart_min)) == ("18:02", "07:25")
    assert monday.arrive_soc_pct == pytest.approx(61.2258, abs=1e-4)
    # The household's drivers announce the earliest they leave: none ever left early.
    assert learned.habits["ioniq"].early_share is None


def test_a_car_leaving_on_the_periods_first_morning_is_expected_home_at_its_learned_hour():
    learned = prepare(household(), Settings()).learned
    assert learned is not None
    book = HabitBook(BERLIN, learned=learned.habits)
    book.departed("ioniq", datetime(2024, 4, 1, 7, 20, tzinfo=BERLIN), 80.0, None)
    expected = book.expected("ioniq", datetime(2024, 4, 1, 8, 0, tzinfo=BERLIN))
    assert expected is not None
    assert expected.at == datetime(2024, 4, 1, 18, 1, 37, 500000, tzinfo=BERLIN)
    assert expected.soc_pct == pytest.approx(80.0 - 18.7742, abs=1e-4)  # what it left with less the usual trip
    # A fresh install knows nothing of it.
    cold = HabitBook(BERLIN)
    cold.departed("ioniq", datetime(2024, 4, 1, 7, 20, tzinfo=BERLIN), 80.0, None)
    assert cold.expected("ioniq", datetime(2024, 4, 1, 8, 0, tzinfo=BERLIN)) is None


def test_only_smartload_learns_and_a_fresh_install_learns_nothing():
    assert prepare(household(weeks=0), Settings()).learned is None
    assert prepare(household(strategy="greedy"), Settings()).learned is None


def test_habits_are_not_learned_before_the_period_when_the_settings_do_not_learn_them():
    settings = Settings.model_validate({"planning": {"learn_habits": False}})
    learned = prepare(household(), settings).learned
    assert learned is not None
    assert learned.habits == {}
    assert len(learned.house) == 192


def test_a_history_is_refused_for_garages_and_for_heat_pumps():
    with pytest.raises(ValueError, match="household"):
        SimulationConfig(strategy="smartload", start=date(2024, 4, 1), days=1, sessions_csv=Path("x.csv"),
                         learned_weeks=4)
    with pytest.raises(ValueError, match="0 or more"):
        household(weeks=-1)
    scenario = load_scenario("household")
    heat = scenario.loadpoints[0].model_copy(update={"device": "heatpump"})
    with pytest.raises(ValueError, match="heat pump"):
        learned_house(scenario.model_copy(update={"loadpoints": [heat]}), datetime(2024, 3, 4, tzinfo=BERLIN),
                      datetime(2024, 4, 1, tzinfo=BERLIN), 1, Settings(), household().poll)


def test_a_household_run_that_learned_before_starts_from_it_and_says_so():
    # The relaxation planner: the same plans on any machine. Started cold, the same two
    # days cost 22.1991 EUR; from the learned state 22.2274.
    report = simulate(config(scenario="household", strategy="smartload", planner_mode="relaxation", learned_weeks=4),
                      Settings())
    assert report["errors"] == []
    assert report["cost_served_eur"] == pytest.approx(22.2274, abs=1e-4)
    assert report["deadline_misses"] == 0
    learned = report["run"]["learned_before"]
    assert learned["weeks"] == 4
    assert learned["since"] == "2023-12-18T00:00:00+01:00"
    assert learned["text"].startswith("smartload starts with the house-load profile and driver habits learned "
                                      "from the 4 weeks before the period (from 2023-12-18)")


def cost_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cost_benchmark", ROOT / "benchmarks" / "cost.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_cost_benchmark_keys_the_learned_weeks_on_the_household_smartload_runs_only():
    cost = cost_module()
    assert cost.LEARNED_WEEKS == 4

    def key(site: str, strategy: str, weeks: int) -> str:
        return str(cost.Run(site, date(2024, 4, 1), 7, strategy, None, learned_weeks=weeks).key("v"))

    assert key("household", "smartload", 4) != key("household", "smartload", 0)
    for site, strategy in (("household", "optimal"), ("household", "greedy"), ("acn4", "smartload")):
        assert key(site, strategy, 4) == key(site, strategy, 0)
    assert cost.Run("acn4", date(2024, 4, 1), 7, "smartload", None, learned_weeks=4).learned == 0


def test_simulate_takes_the_learned_weeks_and_refuses_them_for_a_garage(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]):
    parser = argparse.ArgumentParser(prog="simulate")
    add_simulate_arguments(parser)
    common = ["--start", "2024-04-01", "--days", "1", "--strategy", "smartload", "--report", str(tmp_path / "r.json")]
    assert config_from(parser.parse_args(["--scenario", "household", *common])).learned_weeks == 0
    assert config_from(parser.parse_args(["--scenario", "household", "--learned-weeks", "3", *common])
                       ).learned_weeks == 3
    sessions = acn_csv(tmp_path / "acn.csv.gz", [("2019-09-02 07:10:00-07:00", "2019-09-02 16:00:00-07:00", 12.0,
                                                  "CA-1", "2019-09-02 15:00:00-07:00")])
    args = parser.parse_args(["--sessions", str(sessions), "--learned-weeks", "4", *common])
    assert simulate_main(args, Settings()) == 2
    assert "a learned history is the household's" in capsys.readouterr().err


def test_the_cost_benchmark_keys_the_pv_forecast_error_on_household_runs_and_solar_settings_on_smartload(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cost = cost_module()

    def key(site: str, strategy: str, error: float) -> str:
        return str(cost.Run(site, date(2024, 4, 1), 7, strategy, None, pv_forecast_error=error).key("v"))

    for strategy in ("smartload", "optimal", "uncontrolled"):
        assert key("household", strategy, 0.15) != key("household", strategy, 0.0)
    assert key("acn4", "smartload", 0.15) == key("acn4", "smartload", 0.0)  # ACN has no PV
    # A report made before the option keeps its key: an error of 0 is not written into it.
    run = cost.Run("household", date(2024, 4, 1), 7, "optimal", None)
    options = {k: v for k, v in dataclasses.asdict(run).items() if k != "pv_forecast_error"}
    options.update(early_share=0.0, early_by_s=0.0, learned_weeks=0)
    text = json.dumps({"version": "v", "run": options}, sort_keys=True, default=str)
    assert run.key("v") == hashlib.sha256(text.encode()).hexdigest()[:12]
    before = cost.versions(tmp_path)
    monkeypatch.setenv("SMARTLOAD_PLANNING__SOLAR_ADJUSTED", "true")
    after = cost.versions(tmp_path)
    assert after["smartload"] != before["smartload"]
    assert {s: after[s] for s in ("uncontrolled", "greedy", "optimal")} == {
        s: before[s] for s in ("uncontrolled", "greedy", "optimal")}
