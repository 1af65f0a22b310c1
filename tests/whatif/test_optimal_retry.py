"""The whole-period optimum retries in the guided neighbourhood when the full MILP finds
no schedule in time (household 2024-10, 28 days), and keeps the better answer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from smartload.planner import Plan, PlannerInput, PlannerSettings
from smartload.settings import Settings
from smartload.whatif.runner import make_site, period_prices, prepare
from smartload.whatif.strategies import optimal
from tests.whatif.conftest import COMMUTER, config


def _solve_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, full_status: str) -> tuple[Plan, list[bool]]:
    real = optimal.make_plan
    calls: list[bool] = []

    def make_plan(planner_input: PlannerInput, settings: PlannerSettings) -> Plan:
        calls.append(settings.lp_guided)
        plan = real(planner_input, settings)
        if settings.lp_guided:
            return plan
        # The full MILP as it ends on the long period: the LP repair, dearer.
        return dataclasses.replace(plan, status=full_status, objective_eur=plan.objective_eur + 100.0)

    monkeypatch.setattr(optimal, "make_plan", make_plan)
    path = tmp_path / "commuter.yaml"
    path.write_text(COMMUTER, encoding="utf-8")
    inputs = prepare(config(strategy="optimal", scenario=str(path), days=1), Settings())
    site = make_site(inputs)
    _, plan = optimal.solve(inputs, site, period_prices(site, inputs.start, inputs.end).stored)
    return plan, calls


def test_an_optimum_without_a_milp_schedule_is_solved_again_guided(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    plan, calls = _solve_with(monkeypatch, tmp_path, "fallback")
    assert calls == [False, True]
    assert plan.status == "optimal"
    assert plan.objective_eur < 100.0


def test_an_optimum_with_a_milp_schedule_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plan, calls = _solve_with(monkeypatch, tmp_path, "feasible")
    assert calls == [False]
    assert plan.status == "feasible"
    assert plan.objective_eur > 100.0
