"""What the command line imports before it does anything (issue 19): `--help` builds the
parser from argparse alone, `check-config` validates the settings without the planner, the
what-if runner, the simulator's server or scipy. Behaviour, not timing: benchmarks/startup.py
times them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Runs `python -m smartload <args>` in a fresh interpreter and prints, on the last line of
# stdout, the modules it imported (a None entry is one blocked from importing: httpx._main).
PROBE = """
import json, runpy, sys
sys.argv = ["smartload", *sys.argv[1:]]
try:
    runpy.run_module("smartload", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
print(MARK + json.dumps(sorted(name for name, module in sys.modules.items() if module is not None)))
""".replace("MARK", repr("\nimported: "))

NEVER_FOR_HELP = ("scipy", "highspy", "numpy", "smartload.planner", "smartload.whatif.runner",
                  "smartload.whatif.strategies", "smartload.settings", "pydantic", "pydantic_settings", "reactivex",
                  "httpx", "uvicorn", "starlette", "asyncio", "loguru")
NEVER_FOR_CHECK = ("scipy", "highspy", "numpy", "smartload.planner", "smartload.whatif.runner",
                   "smartload.whatif.strategies", "smartload.sim.server", "smartload.service", "uvicorn", "starlette",
                   "pydantic_settings", "reactivex", "asyncio")


def imported(*args: str) -> tuple[set[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTLOAD_")} | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=env, check=False)
    output, found, modules = done.stdout.rpartition("\nimported: ")
    assert found, done.stderr
    return set(json.loads(modules)), output


def among(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.mark.parametrize("args", [("--help",), ("simulate", "--help"), ("sim", "--help"), ("run", "--help")])
def test_help_imports_argparse_alone(args):
    modules, output = imported(*args)
    assert "usage: python -m smartload" in output
    assert among(modules, NEVER_FOR_HELP) == []


def test_check_config_imports_neither_planner_nor_simulator_server():
    modules, output = imported("check-config")
    assert output.splitlines()[1:] == ["settings.yaml: OK (evcc embedded, 2 vehicle(s))"]
    assert "smartload.settings" in modules
    assert among(modules, NEVER_FOR_CHECK) == []


def test_the_service_reaches_its_first_poll_without_the_planner():
    """What `run` imports before its first poll: the planner (HiGHS) loads at the first
    plan, the simulator's server (numpy) only for an embedded evcc, MQTT only when on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTLOAD_")} | {"PYTHONPATH": str(ROOT)}
    probe = ("import json, sys; import smartload.__main__, smartload.plugins, smartload.service; "
             "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=env, check=True)
    modules = set(json.loads(done.stdout))
    assert "smartload.service" in modules
    assert among(modules, ("scipy", "highspy", "numpy", "smartload.planner", "smartload.sim.server", "aiomqtt")) == []


def test_planning_needs_highspy_and_never_scipy():
    """scipy is no runtime dependency (a benchmark's extra): a plan with a shared wallbox,
    the battery and a grid limit (relaxation, MILPs, polish) loads HiGHS alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTLOAD_")} | {"PYTHONPATH": str(ROOT)}
    probe = ("import json, sys\n"
             "from tests.planner.builders import battery, car, hourly, problem\n"
             "from smartload.planner import PlannerSettings, make_plan\n"
             "cars = [car('A', 8.0, departure_h=6), car('B', 6.0, departure_h=6, wallbox=None)]\n"
             "inputs = problem(hourly([0.3, 0.1, 0.2, 0.05, 0.4, 0.1]), cars, battery(soc_pct=50.0))\n"
             "plan = make_plan(inputs, PlannerSettings(grid_import_limit_w=15_000.0))\n"
             "print(json.dumps([plan.status, round(plan.objective_eur, 4), sorted(sys.modules)]))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=env, check=True)
    status, objective, modules = json.loads(done.stdout)
    assert (status, objective) == ("feasible", 1.14)  # as with scipy's HiGHS: the same plan
    assert "highspy" in modules
    assert among(set(modules), ("scipy",)) == []
