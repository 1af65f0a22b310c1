"""`simulate` on the command line: arguments, the report file, and bad input as exit 2."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pty
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from smartload.settings import Settings
from smartload.sim.prices import SHIPPED_YEAR
from smartload.whatif.cli import add_simulate_arguments, simulate_main
from smartload.whatif.report import SHIPPED_PRICES
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


ROOT = Path(__file__).resolve().parent.parent.parent
DAY_ARGS = ["simulate", "--scenario", "household", "--start", "2024-07-15", "--days", "1", "--strategy",
            "uncontrolled", "--step", "60s"]


def shipped_prices_of(day: str) -> list[float]:
    """The shipped table's EUR/MWh for the local day (Berlin summer time: UTC+2), read here
    on its own, not through the simulator."""
    text = gzip.decompress(resources.files("smartload.sim").joinpath("data", SHIPPED_YEAR).read_bytes()).decode()
    start = datetime.fromisoformat(day + "T00:00+02:00").astimezone(UTC)
    stamps = {(start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in range(24)}
    return [float(line.split(",")[1]) for line in text.splitlines()[1:] if line.split(",")[0] in stamps]


def test_simulate_defaults_to_the_shipped_prices_and_logs_progress_lines(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "smartload", *DAY_ARGS, "--report", str(report)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stderr.splitlines() if line.startswith("simulate: ")]
    assert [line[1] for line in lines] == [f"{pct}%" for pct in range(0, 101, 5)]
    assert (" ".join(lines[0]), " ".join(lines[-1])) == ("simulate: 0% 2024-07-15 00:00",
                                                         "simulate: 100% 2024-07-16 00:00")
    # Each line at the first physics step past its share of the day (steps of a minute, or
    # shorter where a car arrives or leaves between two).
    for line, pct in zip(lines[1:-1], range(5, 100, 5), strict=True):
        at = datetime.fromisoformat(f"{line[2]}T{line[3]}")
        assert 0 <= (at - datetime(2024, 7, 15)).total_seconds() - pct * 864 < 180
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["data"]["prices"] == SHIPPED_PRICES and "price_stand_ins" not in data["data"]
    day = shipped_prices_of("2024-07-15")
    assert len(day) == 24
    assert data["prices_eur_per_kwh"]["highest"] == round(max(day) / 1000 * 1.19 + 0.17, 5)
    assert data["prices_eur_per_kwh"]["mean"] == round(sum(p / 1000 * 1.19 + 0.17 for p in day) / 24, 5)


def test_simulate_on_a_terminal_draws_a_bar(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        child = subprocess.Popen([sys.executable, "-m", "smartload", *DAY_ARGS, "--report", str(tmp_path / "r.json")],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=terminal, text=True)
        os.close(terminal)
        written = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child has gone and closed the terminal
                break
            if not chunk:
                break
            written += chunk
        assert child.wait(timeout=300) == 0
        assert child.stdout is not None
        child.stdout.close()
    finally:
        os.close(controller)
    text = written.decode()
    assert "\rsimulate [" + "." * 30 + "]   0% 2024-07-15 00:00" in text
    assert re.search(r"\rsimulate \[#{15}\.{15}\]  50% 2024-07-15 12:0[0-2]", text)
    assert text.rstrip("\r\n").endswith("\rsimulate [" + "#" * 30 + "] 100% 2024-07-16 00:00")
    assert "simulate: 5%" not in text


def test_a_pv_forecast_error_changes_the_forecast_not_the_weather(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Uncontrolled charging reads no forecast: with a forecast error its day costs the
    same to the cent, and the report says which error it ran with."""
    prices = price_csv(tmp_path / "p.csv", date(2024, 4, 8), [80.0] * 96)
    reports = {}
    for error in ("0", "0.15"):
        report = tmp_path / f"r{error}.json"
        args = parse(["--prices", str(prices), "--scenario", "household", "--start", "2024-04-08", "--days", "1",
                      "--strategy", "uncontrolled", "--report", str(report), "--step", "30s",
                      "--pv-forecast-error", error])
        assert simulate_main(args, Settings()) == 0
        reports[error] = json.loads(report.read_text(encoding="utf-8"))
    assert [r["run"]["pv_forecast_error"] for r in reports.values()] == [0.0, 0.15]
    assert reports["0"]["cost_eur"] == reports["0.15"]["cost_eur"]
    assert reports["0"]["grid"] == reports["0.15"]["grid"]
    args = parse(["--prices", str(prices), "--scenario", "household", "--start", "2024-04-08", "--days", "1",
                  "--strategy", "uncontrolled", "--report", str(tmp_path / "x.json"), "--pv-forecast-error", "2"])
    assert simulate_main(args, Settings()) == 2
    assert "PV forecast error must be in [0, 1], not 2.0" in capsys.readouterr().err
