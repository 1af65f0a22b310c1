"""What-if cost benchmark: four strategies on real German day-ahead prices.

    python benchmarks/cost.py            # full: 4 weeks x Jan, Apr, Jul, Oct of 2023 and 2024
    python benchmarks/cost.py --quick    # 1 week of each of those months
    options: --jobs 2 --time-limit 2 --optimal-time-limit 600 --out benchmarks/out/cost
             --sites household,acn4,acn8 --months 1,4,7,10 --early-share 0.3 --early-by 2 --seed 1
             --learned-weeks 4 (0: smartload starts each household period cold) --pv-forecast-error 0.15
             --report-only (tabulate the reports there are, run nothing)

Sites: the simulator's household (two cars on one wallbox, 10 kWh battery, 8 kWp PV) and
the Caltech ACN sessions on the 4 and on the 8 busiest stations (see smartload/whatif).
Strategies: uncontrolled, greedy (evcc's planner), smartload (the real pipeline), optimal
(perfect foresight over the whole period). --early-share moves that share of the ACN
drivers' departures --early-by earlier (drawn with --seed; the announced departure stays),
for sites whose drivers leave early more often than Caltech's. --learned-weeks: in each
household period smartload starts with the house-load profile and driver habits it would have
learned in that many weeks before (smartload/whatif/history.py), as an installation that
has been running does; 0 starts it cold, as a fresh install.

Each run writes its report to --out, named by a key of everything that changes its result:
the code (a hash of the smartload package's source), the settings, the run's options and
the data files. A report whose key matches is reused, so an interrupted run resumes and a
changed planner never passes for an old result. The household's optimal is the slow part:
with the inverter's binaries each week takes up to its 600 s limit, about 25 minutes of
the quick run on 2 cores; the full household run about an hour. One whose full MILP finds
no schedule in time is solved again in the guided neighbourhood (another 600 s); if that
finds none either, the period is counted as unsolved: printed, left out of the gap to the
optimum, still compared with uncontrolled and greedy.

Printed per site and period: each strategy's cost (EUR), energy delivered (kWh) and missed
departures, smartload's gap to optimal, its saving against uncontrolled and greedy, the
departures smartload misses that optimal (o) and uncontrolled (u) serve fully, and its
missed kWh. Costs are `cost_served_eur`: the grid bill, the energy left in the home
battery and in cars still at home valued at the lowest price of the day after the period,
and the energy cars left without priced at the period's highest price. Then the totals
per site, smartload's plan solve times (p50/p95) and the targets, a missed one printed
as MISSED (and the exit status 1):
- household: smartload's total within 2 % of optimal over 28-day periods (2.5 % over
  the 7-day ones of --quick); no departure missed that optimal serves fully;
- acn4, acn8: no departure missed that uncontrolled charging serves fully, and a total
  cost below uncontrolled and greedy.

Data is read where it lies (--data, by default ../shared/data beside the repository; a
relative --data is taken from the repository root, not the working directory), never copied.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# The smartload this repository holds (the one code_version hashes), not an installed one.
sys.path.insert(0, str(ROOT))
# The shared data beside the repository (its SOURCES.md gives the licences); --data is
# taken relative to the repository root, not to the working directory.
DATA = "../shared/data"
PRICES = "prices_dayahead_de_lu_hourly_2015_2024.csv"
SESSIONS = "acn_sessions_caltech_2019_2021.csv.gz"
STRATEGIES = ("uncontrolled", "greedy", "smartload", "optimal")
MONTHS = (1, 4, 7, 10)
YEARS = (2023, 2024)
SITES = {"household": None, "acn4": 4, "acn8": 8}
# smartload's total cost above optimal's, household, by period length (days -> share).
HOUSEHOLD_GAP = {28: 0.02, 7: 0.025}
# A real installation has run for weeks before any period: smartload starts with what it
# would have learned in them (--learned-weeks; the habits' memory is about 4 weeks).
LEARNED_WEEKS = 4


@dataclass(frozen=True)
class Run:
    site: str
    start: date
    days: int
    strategy: str
    time_limit_s: float | None
    optimal_time_limit_s: float = 600.0
    early_share: float = 0.0
    early_by_s: float = 7200.0
    seed: int = 1
    learned_weeks: int = 0
    pv_forecast_error: float = 0.0

    @property
    def learned(self) -> int:
        """The weeks smartload has learned before the period: only the household's
        smartload learns (history.py), so no other run depends on them."""
        return self.learned_weeks if self.strategy == "smartload" and SITES[self.site] is None else 0

    def name(self, key: str) -> str:
        return f"{self.site}_{self.start.isoformat()}_{self.days}d_{self.strategy}_{key}.json"

    def key(self, version: str) -> str:
        """The run's options (what the household ignores left out) and the version of code,
        settings and data: a report made with any other is not this run's."""
        options = asdict(self)
        if SITES[self.site] is None:
            options.update(early_share=0.0, early_by_s=0.0)
        else:
            options.update(pv_forecast_error=0.0)
        options["learned_weeks"] = self.learned
        if not options["pv_forecast_error"]:
            del options["pv_forecast_error"]  # the keys of reports made before the option stay
        text = json.dumps({"version": version, "run": options}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def code_version() -> str:
    """A hash of the smartload package's source (every file, as git would see it)."""
    digest = hashlib.sha256()
    package = ROOT / "smartload"
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# Settings only smartload's own pipeline reads (its habits, its planner's end value, its
# correction of the PV forecast): no other strategy's report depends on them, so one
# changed re-runs smartload alone instead of the optimum's minutes too.
SMARTLOAD_ONLY = ("expected_end_value", "expected_arrivals", "learn_habits", "habit_learning_rate",
                  "solar_adjusted", "solar_blend")


def versions(data: Path) -> dict[str, str]:
    """Per strategy: code, the settings every run starts from (the defaults and SMARTLOAD_*
    variables; for any strategy but smartload, without SMARTLOAD_ONLY) and the data files
    (name, size, modification time). The code and settings are read once for all."""
    from smartload.settings import load_settings

    code = code_version()
    settings = load_settings(None).model_dump(mode="json")
    files = [data / PRICES, data / SESSIONS]
    stamp = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) if f.exists() else (f.name, None) for f in files]
    result = {}
    for strategy in STRATEGIES:
        keyed = dict(settings)
        if strategy != "smartload":
            keyed["planning"] = {k: v for k, v in settings["planning"].items() if k not in SMARTLOAD_ONLY}
        text = json.dumps({"code": code, "settings": keyed, "data": stamp}, sort_keys=True, default=str)
        result[strategy] = hashlib.sha256(text.encode()).hexdigest()
    return result


def data_dir(value: str) -> Path:
    """--data: absolute, or relative to the repository root (not the working directory)."""
    return (ROOT / value).resolve()


def execute(run: Run, path: Path, data: Path) -> float:
    """One simulation in a worker process; writes its report to `path`, returns the wall time."""
    from loguru import logger

    from smartload.settings import load_settings
    from smartload.whatif.runner import SimulationConfig, simulate

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    chargers = SITES[run.site]
    config = SimulationConfig(
        strategy=run.strategy, start=run.start, days=run.days, prices_csv=data / PRICES,
        scenario="household" if chargers is None else None,
        sessions_csv=data / SESSIONS if chargers is not None else None, chargers=chargers or 4,
        time_limit_s=run.time_limit_s, optimal_time_limit_s=run.optimal_time_limit_s, seed=run.seed,
        early_share=run.early_share if chargers is not None else 0.0, early_by=timedelta(seconds=run.early_by_s),
        learned_weeks=run.learned,
        pv_forecast_error=run.pv_forecast_error if chargers is None else None,
    )
    started = time.perf_counter()
    report = simulate(config, load_settings(None))
    elapsed = time.perf_counter() - started
    report["wall_time_s"] = round(elapsed, 1)
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return elapsed


def pct(a: float, b: float) -> str:
    return f"{(a - b) / b * 100:+.1f} %" if b else "n/a"


def target(text: str, met: bool) -> bool:
    print(f"target {text}: {'met' if met else 'MISSED'}")
    return met


@dataclass
class SiteTally:
    """What one site's periods add up to."""

    totals: dict[str, float]
    times: list[float]
    not_served_opt: list[str]
    not_served_unc: list[str]
    missed_kwh_opt: float = 0.0
    missed_kwh_unc: float = 0.0
    missed_kwh: dict[str, float] | None = None
    proven_eur: float = 0.0
    optimal_s: float = 0.0
    smartload_solved: float = 0.0
    optimal_solved: float = 0.0
    complete: int = 0


def site_table(reports: dict[tuple[str, date, str], dict[str, Any]], site: str, starts: list[date]
               ) -> tuple[SiteTally, list[date], list[date], list[float]]:
    from smartload.whatif.service import service

    header = ("period      " + "".join(f"| {s:>22} " for s in STRATEGIES)
              + "| gap to opt | vs uncontr. | vs greedy | missed: o  u   kWh")
    print(header)
    print("-" * len(header))
    tally = SiteTally(dict.fromkeys(STRATEGIES, 0.0), [], [], [], missed_kwh=dict.fromkeys(STRATEGIES, 0.0))
    assert tally.missed_kwh is not None
    unsolved: list[date] = []
    incomplete: list[date] = []
    gaps: list[float] = []
    for start in starts:
        row = {s: reports.get((site, start, s)) for s in STRATEGIES}
        if any(r is None for r in row.values()):
            print(f"{start}  (incomplete: {', '.join(s for s, r in row.items() if r is None)} missing)")
            incomplete.append(start)
            continue
        tally.complete += 1
        cells = ""
        for s in STRATEGIES:
            r = row[s]
            assert r is not None
            tally.totals[s] += r["cost_served_eur"]
            tally.missed_kwh[s] += r["shortfall_kwh"]
            cells += (f"| {r['cost_served_eur']:7.2f} EUR {r['energy_delivered_kwh']:6.1f} kWh "
                      f"{r['deadline_misses']:2d}m ")
        sl, opt, unc, greedy = row["smartload"], row["optimal"], row["uncontrolled"], row["greedy"]
        assert sl is not None and opt is not None and unc is not None and greedy is not None
        tally.times += sl.get("plan_solve_times_s", [])
        tally.optimal_s += opt["optimal"]["total_time_s"]
        solved = opt["optimal"]["status"] != "fallback"
        found = service(sl, {"optimal": opt, "uncontrolled": unc} if solved else {"uncontrolled": unc})
        by_unc = found["missed_that_uncontrolled_serves_fully"]
        tally.not_served_unc += [f"{start} {i}" for i in by_unc["ids"]]
        tally.missed_kwh_unc += by_unc["missed_kwh"]
        by_opt = found.get("missed_that_optimal_serves_fully")
        gap = pct(sl["cost_served_eur"], opt["cost_served_eur"])
        if not solved:
            # No MILP solution within its time limit: the LP repair is no bound to compare with.
            unsolved.append(start)
            gap = "unsolved"
        else:
            assert by_opt is not None
            tally.not_served_opt += [f"{start} {i}" for i in by_opt["ids"]]
            tally.missed_kwh_opt += by_opt["missed_kwh"]
            tally.proven_eur += opt["optimal"]["gap_eur"]
            tally.smartload_solved += sl["cost_served_eur"]
            tally.optimal_solved += opt["cost_served_eur"]
            gaps.append((sl["cost_served_eur"] - opt["cost_served_eur"]) / opt["cost_served_eur"])
        missed_o = f"{by_opt['count']:2d}" if by_opt is not None else " -"
        print(f"{start}  {cells}| {gap:>10} "
              f"| {pct(sl['cost_served_eur'], unc['cost_served_eur']):>11} "
              f"| {pct(sl['cost_served_eur'], greedy['cost_served_eur']):>9} "
              f"|        {missed_o} {by_unc['count']:2d} {sl['shortfall_kwh']:6.1f}")
    return tally, unsolved, incomplete, gaps


def listed(items: list[str]) -> str:
    return f" ({', '.join(items[:6])}{' ...' if len(items) > 6 else ''})" if items else ""


def table(reports: dict[tuple[str, date, str], dict[str, Any]], sites: list[str], starts: list[date],
          days: int) -> bool:
    ok = True
    for site in sites:
        print(f"\n## {site}")
        tally, unsolved, incomplete, gaps = site_table(reports, site, starts)
        totals = tally.totals
        assert tally.missed_kwh is not None
        print("total       " + "".join(f"| {totals[s]:11.2f} EUR          " for s in STRATEGIES)
              + f"| {pct(tally.smartload_solved, tally.optimal_solved):>10} "
              f"| {pct(totals['smartload'], totals['uncontrolled']):>11} "
              f"| {pct(totals['smartload'], totals['greedy']):>9}")
        print("missed kWh  " + "".join(f"| {tally.missed_kwh[s]:11.1f} kWh          " for s in STRATEGIES))
        if tally.times:
            print(f"smartload plan solve time: p50 {np.percentile(tally.times, 50):.3f} s, p95 "
                  f"{np.percentile(tally.times, 95):.3f} s, max {max(tally.times):.2f} s over {len(tally.times)} plans")
        if tally.optimal_solved:
            # optimal is a MILP solved to a gap: its true optimum may lie below it by this much.
            print(f"optimal: solved in {tally.optimal_s:.0f} s, within {tally.proven_eur:.2f} EUR of its proven "
                  f"lower bound ({tally.proven_eur / tally.optimal_solved * 100:.2f} %)")
        print(f"periods: {len(starts)}, complete {tally.complete}, incomplete {len(incomplete)}, optimal unsolved "
              f"{len(unsolved)}{listed([str(d) for d in unsolved])} (left out of the gap, still compared "
              "with uncontrolled and greedy)")
        if gaps:
            print(f"smartload gap to optimal per solved period: mean {statistics.mean(gaps) * 100:.1f} %, "
                  f"worst {max(gaps) * 100:.1f} %")
        print(f"departures smartload misses that optimal serves fully: {len(tally.not_served_opt)}, "
              f"{tally.missed_kwh_opt:.1f} kWh{listed(tally.not_served_opt)}")
        print(f"departures smartload misses that uncontrolled serves fully: {len(tally.not_served_unc)}, "
              f"{tally.missed_kwh_unc:.1f} kWh{listed(tally.not_served_unc)}")
        ok = target(f"{site}: every period complete", not incomplete) and ok
        if SITES[site] is None:
            limit = HOUSEHOLD_GAP.get(days, HOUSEHOLD_GAP[7])
            within = bool(tally.optimal_solved) and tally.smartload_solved <= tally.optimal_solved * (1 + limit)
            ok = target(f"{site}: smartload within {limit * 100:.1f} % of optimal in total", within) and ok
            ok = target(f"{site}: no departure missed that optimal serves fully", not tally.not_served_opt) and ok
        else:
            ok = target(f"{site}: no departure missed that uncontrolled serves fully",
                        not tally.not_served_unc) and ok
            cheaper = totals["smartload"] < min(totals["uncontrolled"], totals["greedy"])
            ok = target(f"{site}: smartload's total below uncontrolled and greedy", cheaper) and ok
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one week per month instead of four")
    parser.add_argument("--jobs", type=int, default=2, help="parallel simulations (default 2)")
    parser.add_argument("--time-limit", type=float, help="smartload's planner time limit in s (default: settings)")
    parser.add_argument("--optimal-time-limit", type=float, default=600.0,
                        help="optimal's time limit in s (default 600)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/cost"), help="report directory")
    parser.add_argument("--sites", default=",".join(SITES), help="household,acn4,acn8")
    parser.add_argument("--months", default=",".join(map(str, MONTHS)), help="months of each year (default 1,4,7,10)")
    parser.add_argument("--early-share", type=float, default=0.0,
                        help="ACN sites: this share of drivers leaves --early-by earlier than in the data (default 0)")
    parser.add_argument("--early-by", type=float, default=2.0, help="hours (default 2)")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: tabulate the reports of this version there are (missing ones count "
                             "as incomplete periods)")
    parser.add_argument("--learned-weeks", type=int, default=LEARNED_WEEKS, metavar="N",
                        help="household: smartload starts each period with the house-load profile and driver "
                             "habits learned from the N weeks before it, as a running installation has them "
                             "(0: a fresh install; default %(default)s)")
    parser.add_argument("--pv-forecast-error", type=float, default=0.0, metavar="SD",
                        help="household: the PV forecast misses each day's cloud level by a seeded normal draw "
                             "of this standard deviation, as day-ahead forecasts do (default 0: it knows the "
                             "day's level and misses only passing clouds)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulation and the early drivers (default 1)")
    parser.add_argument("--data", type=data_dir, default=DATA, metavar="DIR",
                        help="the shared data folder; a relative path is taken from the repository "
                             "root, not the working directory (default: %(default)s)")
    args = parser.parse_args()
    if not 0.0 <= args.early_share <= 1.0:
        parser.error("--early-share must be in [0, 1]")
    if args.learned_weeks < 0:
        parser.error("--learned-weeks must be 0 or more")
    if not 0.0 <= args.pv_forecast_error <= 1.0:
        parser.error("--pv-forecast-error must be in [0, 1]")
    needed = [args.data / PRICES] + ([args.data / SESSIONS] if any(SITES.get(s) for s in args.sites.split(",")) else [])
    absent = [str(f) for f in needed if not f.exists()]
    if absent:
        parser.error(f"data not found: {', '.join(absent)} (give --data)")
    days = 7 if args.quick else 28
    sites = [s for s in args.sites.split(",") if s]
    unknown = set(sites) - set(SITES)
    if unknown:
        parser.error(f"unknown sites: {', '.join(sorted(unknown))}")
    out = args.out / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    starts = [date(year, int(month), 1) for year in YEARS for month in args.months.split(",")]
    runs = [Run(site, start, days, strategy, args.time_limit, args.optimal_time_limit, args.early_share,
                args.early_by * 3600.0, args.seed, args.learned_weeks, args.pv_forecast_error)
            for site in sites for start in starts for strategy in STRATEGIES]
    keys = versions(args.data)
    current = keys["smartload"]
    paths = {run: out / run.name(run.key(keys[run.strategy])) for run in runs}
    todo = [] if args.report_only else [run for run in runs if not paths[run].exists()]
    print(f"{len(runs)} runs, {len(todo)} to do, reports in {out} (version {current[:12]})", flush=True)
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        # The long smartload household runs first, so the pool ends evenly.
        todo.sort(key=lambda r: (r.strategy != "smartload", r.site != "household"))
        done = pool.map(execute, todo, [paths[r] for r in todo], [args.data] * len(todo))
        for run, elapsed in zip(todo, done, strict=True):
            print(f"{run.site} {run.start} {run.strategy}: {elapsed:.0f} s", flush=True)
    reports = {(run.site, run.start, run.strategy): json.loads(paths[run].read_text(encoding="utf-8"))
               for run in runs if paths[run].exists()}
    print(f"\n# What-if cost, {days}-day periods from the 1st of each month, DE day-ahead prices "
          f"(wall time {time.perf_counter() - began:.0f} s)")
    limit = args.time_limit if args.time_limit is not None else "settings"
    early = (f"; ACN drivers leaving {args.early_by:g} h earlier: {args.early_share:.0%} (seed {args.seed})"
             if args.early_share else "")
    print(f"cost = cost_served_eur; kWh delivered; m = missed departures; planner time limit: {limit}{early}")
    if "household" in sites:
        print("household: smartload " + (f"starts each period with what it learned from the {args.learned_weeks} weeks "
                                         "before (house-load profile, driver habits)" if args.learned_weeks else
                                         "starts each period as a fresh install (nothing learned)"))
        if args.pv_forecast_error:
            print(f"household: the PV forecast misses each day's cloud level by {args.pv_forecast_error:g} (sd)")
    ok = table(reports, sites, starts, days)
    print(f"\ntargets {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
