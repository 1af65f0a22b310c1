"""The re-plan benchmark's inputs (benchmarks/planner_solve_time.py --replan): what a
re-plan sees when everything went to plan, at a time inside one of the plan's slots."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

from smartload.planner import PlannerSettings, make_plan

from .builders import T0, battery, car, hourly, problem

ROOT = Path(__file__).resolve().parents[2]


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("planner_solve_time", ROOT / "benchmarks" / "planner_solve_time.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_the_re_plan_half_way_through_a_slot_sees_the_socs_half_way_through_it() -> None:
    """A charges at 11.04 kW in the cheap first hour (50 -> 72.08 %) and the battery at
    5 kW (0 -> 45 %). Re-planned 30 minutes in, the car is at 61.04 % and the battery at
    22.5 %, still charging: the SoCs at the end of the slot (72.08 %, 45 %) would count
    30 minutes of charging that has not happened."""
    first = problem(hourly([0.10, 0.40], house_w=[0.0, 5000.0]), [car("A", need_kwh=11.04, departure_h=2.0)],
                    bat=battery())
    plan = make_plan(first, PlannerSettings())
    assert plan.slots[0].cars["A"].soc_pct == pytest.approx(72.08)
    assert plan.slots[0].battery_soc_pct == pytest.approx(45.0)
    later = _benchmark().replanned(replace(first, now=T0 + timedelta(minutes=30)), plan)
    (a,) = later.cars
    assert a.soc_pct == pytest.approx(61.04)
    assert a.charging_now is True
    assert later.battery is not None and later.battery.soc_pct == pytest.approx(22.5)
