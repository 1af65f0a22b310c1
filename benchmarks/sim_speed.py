"""Simulator speed: the household site model alone, in virtual time, at 10-second steps.

  model     - Site.step(now, 10.0) for every step of N simulated days (PV and house per
              minute, evcc's control cycle every step, battery, two cars on trips)
  baseline  - the same loop doing only the clock arithmetic (now += 10 s, a no-op call)
Each is timed three times, interleaved, on a fresh site from the same start; the best
counts. Prints simulated days per wall-clock second, the projected time for a simulated
year (target < 60 s) and the ratio model / baseline.

Run: python benchmarks/sim_speed.py [--days 30] [--year]   (--year also times a full year)
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from loguru import logger

from smartload.sim.scenario import load_scenario
from smartload.sim.site import Site

START = datetime(2025, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))
STEP = timedelta(seconds=10)
STEPS_PER_DAY = 8640


def _noop(now: datetime, dt_s: float) -> None:
    return None


def time_loop(days: int, model: bool) -> float:
    """Wall seconds for `days` simulated days of 10-s steps (model or clock arithmetic only)."""
    step = Site(load_scenario("household"), start=START, seed=1).step if model else _noop
    now = START
    began = time.perf_counter()
    for _ in range(days * STEPS_PER_DAY):
        now += STEP
        step(now, 10.0)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30, help="simulated days per timed run (default 30)")
    parser.add_argument("--year", action="store_true", help="also time one full simulated year")
    args = parser.parse_args()
    logger.remove()  # the site's narrative (plug-ins, trips) is not part of the measurement

    model_runs, baseline_runs = [], []
    for _ in range(3):
        model_runs.append(time_loop(args.days, model=True))
        baseline_runs.append(time_loop(args.days, model=False))
    model, baseline = min(model_runs), min(baseline_runs)
    days_per_s = args.days / model
    print(f"household model, 10 s steps, {args.days} simulated days from {START.date()} (best of 3)")
    print(f"  model:    {model:7.3f} s  {days_per_s:8.1f} simulated days/s  "
          f"{model / (args.days * STEPS_PER_DAY) * 1e6:.2f} us/step")
    print(f"  baseline: {baseline:7.3f} s  {args.days / baseline:8.1f} simulated days/s  (clock arithmetic only)")
    print(f"  ratio model/baseline: {model / baseline:.1f}x")
    print(f"  projected simulated year: {365 / days_per_s:.1f} s (target < 60 s)")
    if args.year:
        year = time_loop(365, model=True)
        print(f"  measured simulated year:  {year:.1f} s")


if __name__ == "__main__":
    main()
