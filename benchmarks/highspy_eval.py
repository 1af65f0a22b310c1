"""highspy (HiGHS's own Python package) against scipy.optimize.milp on the planner's models.

    python benchmarks/highspy_eval.py [--days 20] [--cars 1,3,10] [--data DIR] [--sizes]

The problems are benchmarks/planner_solve_time.py's (real days of 2024, 96 slots, cars at
their own or shared wallboxes: 1 car at 1 wallbox, 3 at 2, 10 at 5). highspy is imported
if it is installed (it is not a dependency: e.g. `pip install --target ./hs highspy
--no-deps` and PYTHONPATH=./hs); without it the script says so and stops.

Per case, both back ends solve:
  milp   - the planner's whole model (build_model's FrozenProgram: cost, bounds,
           integrality, the CSR matrix, row bounds) as one MILP with the planner's
           time limit, gap and extra HiGHS options
  plan   - the whole make_plan (relaxation, guided neighbourhood MILPs, polish), once with
           scipy and once with FrozenProgram.solve/relax replaced by highspy calls on the
           same arrays (monkeypatched here; the planner is not changed)
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
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from planner_solve_time import DATA, Data, data_dir, limit_w, load_house, load_prices, load_pv, pct, scenario  # noqa: E402

from smartload.planner import PlannerSettings, make_plan  # noqa: E402
from smartload.planner import lp as planner_lp  # noqa: E402
from smartload.planner.model import build_model  # noqa: E402

try:
    import highspy
except ImportError:  # optional: not a dependency of smartload
    highspy = None


def _highs(program: Any, time_limit_s: float, mip_rel_gap: float, *, relax: bool,
           lb: np.ndarray | None = None, ub: np.ndarray | None = None, cost: np.ndarray | None = None) -> Any:
    assert highspy is not None
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(time_limit_s, 1e-3))
    h.setOptionValue("mip_rel_gap", mip_rel_gap)
    if not relax:
        for key, value in planner_lp._MILP_EXTRA_OPTIONS.items():
            h.setOptionValue(key, value)
    model = highspy.HighsLp()
    n = program.cost.size
    matrix = program.matrix
    model.num_col_ = n
    model.num_row_ = matrix.shape[0]
    model.col_cost_ = program.cost if cost is None else cost
    model.col_lower_ = program.lb if lb is None else lb
    model.col_upper_ = program.ub if ub is None else ub
    model.row_lower_ = program.row_lb
    model.row_upper_ = program.row_ub
    model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    model.a_matrix_.num_col_ = n
    model.a_matrix_.num_row_ = matrix.shape[0]
    model.a_matrix_.start_ = matrix.indptr
    model.a_matrix_.index_ = matrix.indices
    model.a_matrix_.value_ = matrix.data
    if not relax and program.integrality.any():
        kinds = [highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous
                 for k in program.integrality]
        model.integrality_ = kinds
    h.passModel(model)
    h.run()
    return h


def _scipy_status(h: Any) -> int:
    """scipy.optimize.milp's status codes: 0 optimal, 1 limit, 2 infeasible, 3 unbounded, 4 other."""
    s = highspy.HighsModelStatus
    status = h.getModelStatus()
    if status == s.kOptimal:
        return 0
    if status in (s.kTimeLimit, s.kIterationLimit, s.kSolutionLimit, s.kInterrupt):
        return 1
    if status == s.kInfeasible:
        return 2
    if status in (s.kUnbounded, s.kUnboundedOrInfeasible):
        return 3
    return 4


def highs_solve(self: Any, time_limit_s: float, mip_rel_gap: float, *, relax: bool = False,
                lb: np.ndarray | None = None, ub: np.ndarray | None = None) -> OptimizeResult:
    """FrozenProgram.solve's answer (an OptimizeResult's fields the planner reads) from highspy."""
    h = _highs(self, time_limit_s, mip_rel_gap, relax=relax, lb=lb, ub=ub)
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_x else None
    fun = float(self.cost @ x) if x is not None else np.nan
    bound = float(info.mip_dual_bound) if not relax and self.integrality.any() else None
    return OptimizeResult(x=x, fun=fun, status=_scipy_status(h), mip_dual_bound=bound, success=has_x)


def highs_relax(self: Any, time_limit_s: float, cost: np.ndarray | None = None) -> planner_lp.Relaxation:
    """FrozenProgram.relax from highspy: the reduced costs are HiGHS's column duals (linprog's
    lower.marginals are the same numbers where a variable sits at its lower bound)."""
    h = _highs(self, time_limit_s, 0.0, relax=True, cost=cost)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return planner_lp.Relaxation(None, np.inf, None, 4)
    solution = h.getSolution()
    x = np.asarray(solution.col_value, dtype=np.float64)
    duals = np.asarray(solution.col_dual, dtype=np.float64)
    return planner_lp.Relaxation(x, float(h.getInfo().objective_function_value), np.maximum(duals, 0.0), 0)


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
    if highspy is None:
        print("highspy is not installed: nothing to compare (pip install highspy, or --target DIR and "
              "PYTHONPATH=DIR); skipped")
        return 0
    import scipy

    version = getattr(highspy.Highs(), "version", lambda: "?")()
    print(f"highspy {version} against scipy {scipy.__version__} (its bundled HiGHS); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    data = Data(load_prices(args.data), load_pv(args.data), load_house(args.data))
    days = [date(2024, 1, 3) + timedelta(days=17 * i) for i in range(args.days)]
    base = PlannerSettings()
    original = (planner_lp.FrozenProgram.solve, planner_lp.FrozenProgram.relax)
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
            a = original[0](program, settings.time_limit_s, settings.mip_rel_gap)
            t1 = perf_counter()
            b = highs_solve(program, settings.time_limit_s, settings.mip_rel_gap)
            t2 = perf_counter()
            times["ms"].append(t1 - t0)
            times["mh"].append(t2 - t1)
            if a.status == 0 and b.status == 0:
                milp_diff = max(milp_diff, abs(float(a.fun) - b.fun))
            else:
                limited += 1
            planner_lp.FrozenProgram.solve, planner_lp.FrozenProgram.relax = original
            plan_a = make_plan(inputs, settings)
            planner_lp.FrozenProgram.solve, planner_lp.FrozenProgram.relax = highs_solve, highs_relax
            try:
                plan_b = make_plan(inputs, settings)
            finally:
                planner_lp.FrozenProgram.solve, planner_lp.FrozenProgram.relax = original
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
