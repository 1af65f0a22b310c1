"""The planner's HiGHS (highspy, lp.py) against scipy.optimize.milp's bundled HiGHS on its models.

    python benchmarks/highspy_eval.py [--days 20] [--cars 1,3,10] [--data DIR] [--sizes]

The planner solves with highspy; scipy is no runtime dependency any more (the `bench`
extra: pip install -e .[bench]); without it the script says so and stops. The problems are
benchmarks/planner_solve_time.py's (real days of 2024, 96 slots, cars at their own or
shared wallboxes: 1 car at 1 wallbox, 3 at 2, 10 at 5).

Per case, both back ends solve:
  milp   - the planner's whole model (build_model's FrozenProgram: cost, bounds,
           integrality, the CSC matrix, row bounds) as one MILP with the planner's
           time limit, gap and extra HiGHS options
  plan   - the whole make_plan (relaxation, guided neighbourhood MILPs, polish), once with
           FrozenProgram.solve/relax replaced by scipy.optimize.milp/linprog on the same
           arrays (monkeypatched here; the planner is not changed) and once as shipped
Printed per car count: p50/p95 of each time, the ratio highspy/scipy, and the largest
objective difference (EUR) between the two back ends (for the single MILP only where both
proved their optimum within the gap; "lim" counts the cases where either hit the time
limit, whose incumbents differ), "worse"/"better": plans whose objective is higher/lower
with highspy, and the plans' statuses per back end (--verbose: every case). --sizes also installs each
solver stack with pip into a fresh temporary folder (--target) and prints its size (highspy + numpy
against scipy + numpy).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import warnings
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from planner_solve_time import DATA, Data, data_dir, limit_w, load_house, load_prices, load_pv, pct, scenario  # noqa: E402

from smartload.planner import PlannerSettings, make_plan  # noqa: E402
from smartload.planner import lp as planner_lp  # noqa: E402
from smartload.planner.model import build_model  # noqa: E402

try:
    import scipy
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp
except ImportError:  # the bench extra
    scipy = None


def _csc(program: Any) -> Any:
    m = program.matrix
    return sparse.csc_array((m.value, m.index, m.start), shape=m.shape)


def scipy_solve(self: Any, time_limit_s: float, mip_rel_gap: float, *, relax: bool = False,
                lb: np.ndarray | None = None, ub: np.ndarray | None = None,
                start: np.ndarray | None = None) -> planner_lp.SolveResult:
    """FrozenProgram.solve by scipy.optimize.milp (what the planner used before highspy),
    which takes no MIP start: start is ignored."""
    options: dict[str, float | bool] = {"time_limit": max(time_limit_s, 1e-3), "mip_rel_gap": mip_rel_gap,
                                        "disp": False}
    with warnings.catch_warnings():
        if not relax:
            warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
            options.update(planner_lp._MILP_EXTRA_OPTIONS)
        r = milp(self.cost, integrality=np.zeros_like(self.integrality) if relax else self.integrality,
                 bounds=Bounds(self.lb if lb is None else lb, self.ub if ub is None else ub),
                 constraints=LinearConstraint(_csc(self), self.row_lb, self.row_ub), options=options)
    x = None if r.x is None else np.asarray(r.x)
    bound = r.get("mip_dual_bound")
    return planner_lp.SolveResult(x, np.nan if x is None else float(r.fun), int(r.status),
                                  None if bound is None else float(bound))


def scipy_relax(self: Any, time_limit_s: float, cost: np.ndarray | None = None) -> planner_lp.Relaxation:
    """FrozenProgram.relax by scipy.optimize.linprog (lower.marginals: the reduced costs)."""
    matrix = _csc(self).tocsr()
    equal = self.row_lb == self.row_ub
    upper = ~equal & np.isfinite(self.row_ub)
    lower = ~equal & np.isfinite(self.row_lb)
    r = linprog(self.cost if cost is None else cost,
                A_ub=sparse.vstack([matrix[upper], -matrix[lower]]).tocsr(),
                b_ub=np.r_[self.row_ub[upper], -self.row_lb[lower]], A_eq=matrix[equal], b_eq=self.row_lb[equal],
                bounds=np.c_[self.lb, self.ub], method="highs", options={"time_limit": max(time_limit_s, 1e-3)})
    if r.status != 0 or r.x is None:
        return planner_lp.Relaxation(None, np.inf, None, int(r.status))
    return planner_lp.Relaxation(r.x, float(r.fun), np.asarray(r.lower.marginals), 0)


def site_packages_mb(packages: list[str]) -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "site"
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                               "--target", str(target), *packages], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"pip install {packages} failed:\n{done.stderr[-3000:]}")
        sizes: dict[str, float] = {}
        for entry in target.iterdir():
            paths = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
            if entry.name == "bin":  # the packages' console scripts
                continue
            name = entry.name.split("-")[0].removesuffix(".libs")
            sizes[name] = sizes.get(name, 0.0) + sum(p.stat().st_size for p in paths) / 1e6
    return sum(sizes.values()), sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--cars", default="1,3,10")
    parser.add_argument("--data", type=data_dir, default=DATA, metavar="DIR")
    parser.add_argument("--verbose", action="store_true", help="print each case's plans")
    parser.add_argument("--sizes", action="store_true", help="also measure the installed size of each stack")
    args = parser.parse_args()
    if scipy is None:
        print("scipy is not installed: nothing to compare (pip install -e .[bench]); skipped")
        return 0
    import highspy

    version = f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"
    print(f"highspy {version} against scipy {scipy.__version__} (its bundled HiGHS); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    data = Data(load_prices(args.data), load_pv(args.data), load_house(args.data))
    days = [date(2024, 1, 3) + timedelta(days=17 * i) for i in range(args.days)]
    base = PlannerSettings()
    shipped = (planner_lp.FrozenProgram.solve, planner_lp.FrozenProgram.relax)
    print(f"{'cars':>4} | {'milp scipy p50/p95':>18} {'highspy p50/p95':>16} {'ratio p95':>9} {'max dEUR':>9} "
          f"{'lim':>3} | "
          f"{'plan scipy p50/p95':>18} {'highspy p50/p95':>16} {'ratio p95':>9} {'max dEUR':>9} {'worse':>5} "
          f"{'better':>6}  plan statuses")
    for n_cars in [int(c) for c in args.cars.split(",")]:
        settings = replace(base, grid_import_limit_w=limit_w(n_cars))
        times: dict[str, list[float]] = {"ms": [], "mh": [], "ps": [], "ph": []}
        milp_diff, plan_diff, worse, better, limited = 0.0, 0.0, 0, 0, 0
        statuses: dict[str, dict[str, int]] = {"scipy": {}, "highspy": {}}
        for k, day in enumerate(days):
            inputs = scenario(data, day, n_cars, seed=1000 * n_cars + k)
            program = build_model(inputs, settings).program
            t0 = perf_counter()
            a = scipy_solve(program, settings.time_limit_s, settings.mip_rel_gap)
            t1 = perf_counter()
            b = program.solve(settings.time_limit_s, settings.mip_rel_gap)
            t2 = perf_counter()
            times["ms"].append(t1 - t0)
            times["mh"].append(t2 - t1)
            if a.status == 0 and b.status == 0:
                milp_diff = max(milp_diff, abs(a.fun - b.fun))
            else:
                limited += 1
            planner_lp.FrozenProgram.solve, planner_lp.FrozenProgram.relax = scipy_solve, scipy_relax
            try:
                plan_a = make_plan(inputs, settings)
            finally:
                planner_lp.FrozenProgram.solve, planner_lp.FrozenProgram.relax = shipped
            plan_b = make_plan(inputs, settings)
            times["ps"].append(plan_a.total_time_s)
            times["ph"].append(plan_b.total_time_s)
            plan_diff = max(plan_diff, abs(plan_a.objective_eur - plan_b.objective_eur))
            worse += plan_b.objective_eur > plan_a.objective_eur + 1e-6
            better += plan_b.objective_eur < plan_a.objective_eur - 1e-6
            for key, plan in (("scipy", plan_a), ("highspy", plan_b)):
                statuses[key][plan.status] = statuses[key].get(plan.status, 0) + 1
            if args.verbose:
                print(f"     {day} scipy {plan_a.status} {plan_a.objective_eur:.4f} EUR {plan_a.total_time_s:.3f}s, "
                      f"highspy {plan_b.status} {plan_b.objective_eur:.4f} EUR {plan_b.total_time_s:.3f}s")
        print(f"{n_cars:>4} | {pct(times['ms'], 50):8.3f}/{pct(times['ms'], 95):.3f}s "
              f"{pct(times['mh'], 50):7.3f}/{pct(times['mh'], 95):.3f}s "
              f"{pct(times['mh'], 95) / pct(times['ms'], 95):9.2f} {milp_diff:9.4f} {limited:>3} | "
              f"{pct(times['ps'], 50):8.3f}/{pct(times['ps'], 95):.3f}s "
              f"{pct(times['ph'], 50):7.3f}/{pct(times['ph'], 95):.3f}s "
              f"{pct(times['ph'], 95) / pct(times['ps'], 95):9.2f} {plan_diff:9.4f} {worse:>5} {better:>6}  "
              + "; ".join(f"{key}: " + " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
                          for key, counts in statuses.items()))
    if args.sizes:
        for label, packages in (("highspy + numpy", ["highspy"]), ("scipy + numpy", ["scipy"])):
            total, sizes = site_packages_mb(packages)
            top = ", ".join(f"{k} {v:.1f}" for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:4])
            print(f"installed {label:<16}: {total:6.1f} MB ({top})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
