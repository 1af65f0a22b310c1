"""`simulate` on the command line: arguments, the report file, and bad input as exit 2."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import pytest

from smartload.settings import Settings
from smartload.whatif.cli import add_simulate_arguments, simulate_main
from tests.whatif.conftest import price_csv


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="simulate")
    add_simulate_arguments(parser)
    return parser.parse_args(argv)


def test_a_day_of_uncontrolled_charging_writes_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = price_csv(tmp_path / "p.csv", date(2024, 3, 4), [80.0] * 96)
    report = tmp_path / "r.json"
    args = parse(["--prices", str(prices), "--scenario", "household", "--start", "2024-03-04", "--days", "1",
                  "--strategy", "uncontrolled", "--report", str(report), "--step", "30s"])
    assert simulate_main(args, Settings()) == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["strategy"] == "uncontrolled"
    assert data["data"]["prices"] == str(prices)
    assert data["run"]["step_s"] == 30.0 and data["run"]["poll_interval_s"] == 60.0
    # A flat 80 EUR/MWh: 0.08 x 1.19 + 0.17 = 0.2652 EUR/kWh all day.
    assert data["prices_eur_per_kwh"] == {"mean": 0.2652, "stored": 0.2652, "highest": 0.2652}
    out = capsys.readouterr().out
    assert out.startswith("uncontrolled: ") and "delivered" in out


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = str(tmp_path / "r.json")
    args = parse(["--prices", str(tmp_path / "none.csv"), "--scenario", "household", "--start", "2024-03-04",
                  "--days", "1", "--strategy", "greedy", "--report", report])
    assert simulate_main(args, Settings()) == 2
    assert "file not found" in capsys.readouterr().err
    prices = price_csv(tmp_path / "p.csv", date(2024, 3, 4), [80.0] * 96)
    args = parse(["--prices", str(prices), "--scenario", "nowhere", "--start", "2024-03-04", "--days", "1",
                  "--strategy", "greedy", "--report", report])
    assert simulate_main(args, Settings()) == 2
    assert "unknown scenario 'nowhere'" in capsys.readouterr().err
    args = parse(["--prices", str(prices), "--scenario", "household", "--start", "2024-03-04", "--days", "0",
                  "--strategy", "greedy", "--report", report])
    assert simulate_main(args, Settings()) == 2
    assert not Path(report).exists()


def test_sessions_and_scenario_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        parse(["--prices", "p.csv", "--scenario", "household", "--sessions", "s.csv", "--start", "2024-03-04",
               "--days", "1", "--strategy", "greedy", "--report", "r.json"])
