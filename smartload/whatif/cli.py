"""`python -m smartload simulate`: a what-if cost simulation of one strategy, as a JSON report.

    python -m smartload simulate --scenario household \\
        --start 2024-01-01 --days 28 --strategy smartload --report r.json
    python -m smartload simulate --prices prices.csv --sessions acn.csv.gz --chargers 4 \\
        --start 2024-01-01 --days 28 --strategy greedy --report r.json
"""

# Imports argparse alone at the top (and the strategies' names): `python -m smartload --help`
# builds this parser too; the runner, and with it the planner and HiGHS, come with the run.

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartload.whatif.names import NAMES

if TYPE_CHECKING:
    from smartload.settings import Settings
    from smartload.whatif.runner import SimulationConfig


def _duration(text: str) -> timedelta:
    from smartload.settings.types import parse_duration

    value = parse_duration(text)
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise argparse.ArgumentTypeError(f"not a positive duration: {text!r} (e.g. 10s, 1m)")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prices", metavar="CSV",
                        help="day-ahead prices, timestamp_utc,price_eur_per_mwh (hourly or 15-minute; .csv or "
                             ".csv.gz; default: the shipped DE-LU prices, 2024-01-01 to 2024-12-19)")
    parser.add_argument("--price-stand-ins", action="store_true",
                        help="let the same weekday 52 weeks earlier stand in for days the prices lack an hour of "
                             "(with a warning; without this, a missing hour is an error)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--scenario", metavar="YAML", help="household, two_wallboxes, business, or a scenario file")
    source.add_argument("--sessions", metavar="CSV", help="ACN sessions CSV (.csv or .csv.gz)")
    parser.add_argument("--start", required=True, type=_date, metavar="DATE", help="first day, YYYY-MM-DD (local)")
    parser.add_argument("--days", required=True, type=int, metavar="N", help="number of days")
    parser.add_argument("--strategy", required=True, choices=NAMES)
    parser.add_argument("--report", required=True, metavar="R.json", help="where to write the report")
    parser.add_argument("--chargers", type=int, default=4, metavar="K",
                        help="sessions: the K busiest stations become the wallboxes (default 4)")
    parser.add_argument("--sessions-from", type=_date, metavar="DATE",
                        help="sessions: first ACN day replayed (default: a stand-in day of the same month)")
    parser.add_argument("--grid-limit-kw", type=float, metavar="KW",
                        help="a circuit limit for all wallboxes (evcc load management; smartload plans with it)")
    parser.add_argument("--poll", type=_duration, default=timedelta(seconds=60), metavar="D",
                        help="how often smartload reads evcc (default 60s)")
    parser.add_argument("--step", type=_duration, default=timedelta(seconds=10), metavar="D",
                        help="physics step of the simulated site (default 10s)")
    parser.add_argument("--seed", type=int, default=1, help="seed of PV, house load and trips (default 1)")
    parser.add_argument("--time-limit", type=_duration, metavar="D",
                        help="smartload's planner time limit (default: planning.time_limit from settings)")
    parser.add_argument("--optimal-time-limit", type=_duration, default=timedelta(minutes=10), metavar="D",
                        help="time limit of the whole-period optimum (default 10m)")
    parser.add_argument("--early-share", type=float, default=0.0, metavar="SHARE",
                        help="sessions: this share of drivers (drawn with --seed) leaves earlier than in the data, "
                             "announcing the same departure (default 0)")
    parser.add_argument("--early-by", type=_duration, default=timedelta(hours=2), metavar="D",
                        help="how much earlier those drivers leave (default 2h)")
    parser.add_argument("--learned-weeks", type=int, default=0, metavar="N",
                        help="household smartload: start with the house-load profile and driver habits learned "
                             "from the N weeks before the period, as an installation that has been running "
                             "(default 0: a fresh install)")
    parser.add_argument("--pv-forecast-error", type=float, default=None, metavar="SD",
                        help="scenario: the PV forecast misses each day's cloud level by a seeded normal draw "
                             "of this standard deviation, as day-ahead forecasts do (default: the scenario's "
                             "pv.forecast_error, 0 in the shipped ones)")
    parser.add_argument("--against", action="append", default=[], metavar="R.json",
                        help="another strategy's report of the same run: the report then counts the departures "
                             "this strategy misses that the other serves fully (repeatable)")
    parser.add_argument("--evcc-soc", choices=("identify", "stale"), default="identify",
                        help="identify: evcc reads a car's SoC when it identifies it (default); stale: it shows "
                             "the SoC of the car's last charge until charging starts")


def config_from(args: argparse.Namespace) -> SimulationConfig:
    from smartload.whatif.runner import SimulationConfig

    return SimulationConfig(
        strategy=args.strategy, start=args.start, days=args.days,
        prices_csv=Path(args.prices) if args.prices else None, price_stand_ins=args.price_stand_ins,
        scenario=args.scenario, sessions_csv=Path(args.sessions) if args.sessions else None,
        chargers=args.chargers, sessions_from=args.sessions_from, grid_limit_kw=args.grid_limit_kw,
        poll=args.poll, step_s=args.step.total_seconds(), seed=args.seed,
        time_limit_s=args.time_limit.total_seconds() if args.time_limit else None,
        optimal_time_limit_s=args.optimal_time_limit.total_seconds(),
        evcc_reads_soc_on_identify=args.evcc_soc == "identify",
        early_share=args.early_share, early_by=args.early_by, learned_weeks=args.learned_weeks,
        pv_forecast_error=args.pv_forecast_error,
    )


def summary_line(report: dict[str, Any]) -> str:
    return (f"{report['strategy']}: {report['cost_adjusted_eur']:.2f} EUR ({report['cost_served_eur']:.2f} EUR with "
            f"every departure served), {report['energy_delivered_kwh']:.1f} kWh delivered, "
            f"{report['deadline_misses']} of {report['stays_departed']} departures missed"
            f" ({report['shortfall_kwh']:.1f} kWh short)" + _against_line(report))


def _against_line(report: dict[str, Any]) -> str:
    found = report.get("service") or {}
    parts = [f"{v['count']} that {k.removeprefix('missed_that_').removesuffix('_serves_fully')} serves fully"
             for k, v in found.items() if k.startswith("missed_that_")]
    return f", of them {', '.join(parts)}" if parts else ""


def read_against(paths: list[str]) -> dict[str, dict[str, Any]]:
    """--against reports by their strategy's name; ValueError for one that is not a report."""
    others: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            other = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        if not isinstance(other, dict) or other.get("format") != "smartload-whatif" or "stays" not in other:
            raise ValueError(f"{path}: not a what-if report")
        others[str(other["strategy"])] = other
    return others


def simulate_main(args: argparse.Namespace, settings: Settings) -> int:
    """Run, write the report, print one line. 2 for bad input (files, values)."""
    from pydantic import ValidationError

    from smartload.progress import Progress
    from smartload.sim.scenario import ScenarioError
    from smartload.whatif.coverage import MissingPrices
    from smartload.whatif.runner import simulate
    from smartload.whatif.service import service

    for name in ("prices", "sessions"):
        path = getattr(args, name, None)
        if path is not None and not Path(path).exists():
            print(f"--{name}: {path}: file not found", file=sys.stderr)
            return 2
    try:
        others = read_against(args.against)
    except ValueError as exc:
        print(f"--against: {exc}", file=sys.stderr)
        return 2
    progress = Progress("simulate")
    try:
        try:
            report = simulate(config_from(args), settings,
                              progress=lambda done, at: progress.update(done, f"{at:%Y-%m-%d %H:%M}"))
        finally:
            progress.close()
        if others:
            report["service"] = service(report, others)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except MissingPrices as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    except (ValueError, ValidationError) as exc:
        print(f"simulate: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    Path(args.report).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(summary_line(report))
    return 0
