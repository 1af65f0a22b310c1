"""Every strategy over fixed short cases: energy is conserved exactly, the report has its
shape, and the costs are what this deterministic simulation gives (seed 1, the
simulator's shipped January week of 2024; smartload's real MILP planner with a time limit
it never reaches here, so its plans do not depend on the machine's speed)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from smartload.settings import Settings
from smartload.whatif.report import StayResult
from smartload.whatif.runner import simulate
from tests.whatif.conftest import COMMUTER, acn_csv, config

STRATEGIES = ("uncontrolled", "greedy", "smartload", "optimal")
KEYS = {
    "format", "version", "strategy", "scenario", "period", "data", "run", "cost_eur", "cost_adjusted_eur",
    "cost_served_eur", "prices_eur_per_kwh", "energy_in_open_stays_kwh", "cost_per_kwh_eur", "energy_delivered_kwh",
    "energy_requested_kwh", "energy_delivered_by_departure_kwh", "shortfall_kwh", "deadline_misses",
    "stays_departed", "stays_open_at_end", "peak_import_kw", "peak_import_15min_kw", "grid", "battery",
    "plan_solve_time_s", "plan_status", "evcc_writes", "stays", "errors",
}
# Known gap, kept visible: in this 2-day household case smartload leaves ioniq#1 (back
# 17:39, gone 06:53 local) uncharged at the shared wallbox; the expected figures are those
# of a variant that served it. Strict, so fixing it turns this into a failure to update.
def run_all(**values: Any) -> dict[str, dict[str, Any]]:
    return {s: simulate(config(strategy=s, **values), Settings()) for s in STRATEGIES}


def figures(reports: dict[str, dict[str, Any]]) -> dict[str, tuple[float, float, int]]:
    return {s: (r["cost_adjusted_eur"], r["cost_served_eur"], r["deadline_misses"]) for s, r in reports.items()}


def planned(expected: tuple[float, float, int]) -> tuple[Any, Any, int]:
    """A planner's figures: its MILP stops within a relative gap (optimal: 0.1 %, smartload:
    settings' 0.5 %), so another solver path may land on another plan within it."""
    cost, served, misses = expected
    return pytest.approx(cost, rel=2e-3), pytest.approx(served, rel=2e-3), misses


@pytest.fixture(scope="module")
def household() -> dict[str, dict[str, Any]]:
    return run_all(scenario="household")


@pytest.fixture(scope="module")
def commuter(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    path = tmp_path_factory.mktemp("commuter") / "commuter.yaml"
    path.write_text(COMMUTER, encoding="utf-8")
    return run_all(scenario=str(path))


@pytest.fixture(scope="module")
def garage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    rows = [
        ("2019-09-02 07:10:00-07:00", "2019-09-02 16:00:00-07:00", 12.0, "CA-1", "2019-09-02 15:00:00-07:00"),
        ("2019-09-02 08:00:00-07:00", "2019-09-02 12:00:00-07:00", 20.0, "CA-2", "2019-09-02 12:00:00-07:00"),
        ("2019-09-02 13:00:00-07:00", "2019-09-02 18:00:00-07:00", 8.0, "CA-2", "2019-09-02 17:00:00-07:00"),
    ]
    path = acn_csv(tmp_path_factory.mktemp("acn") / "acn.csv.gz", rows)
    return run_all(sessions_csv=path, chargers=2, days=1, sessions_from=date(2019, 9, 2), grid_limit_kw=8.0)


def check_report(report: dict[str, Any], strategy: str) -> None:
    assert set(report) >= KEYS
    assert report["errors"] == []
    assert report["strategy"] == strategy
    grid = report["grid"]
    sources = grid["pv_kwh"] + grid["import_kwh"] + grid["battery_discharge_kwh"]
    sinks = grid["house_kwh"] + grid["cars_kwh"] + grid["export_kwh"] + grid["battery_charge_kwh"]
    assert sources == pytest.approx(sinks, rel=1e-9, abs=1e-9)
    assert grid["cars_kwh"] == pytest.approx(report["energy_delivered_kwh"], abs=1e-3)
    stays = report["stays"]
    # Every kWh a car took is in one of its stays.
    assert sum(s["delivered_kwh"] for s in stays) == pytest.approx(report["energy_delivered_kwh"], abs=0.01)
    results = [StayResult(s["id"], s["vehicle"], s["arrival"], s["departure"], s["requested_kwh"],
                          s["delivered_kwh"], s["shortfall_kwh"]) for s in stays]
    assert report["deadline_misses"] == sum(1 for s in results if s.missed)
    assert report["stays_departed"] + report["stays_open_at_end"] == len(stays)
    served = report["cost_adjusted_eur"] + report["prices_eur_per_kwh"]["highest"] * report["shortfall_kwh"]
    assert report["cost_served_eur"] == pytest.approx(served, abs=1e-3)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_household_energy_is_conserved_and_the_report_complete(
        household: dict[str, dict[str, Any]], strategy: str) -> None:
    report = household[strategy]
    check_report(report, strategy)
    assert report["period"] == {"start": "2024-01-15T00:00:00+01:00", "end": "2024-01-17T00:00:00+01:00",
                                "days": 2, "timezone": "Europe/Berlin"}
    assert sorted(s["id"] for s in report["stays"] if s["departure"]) == ["ioniq#0", "ioniq#1", "zoe#0", "zoe#1"]
    assert (report["stays_departed"], report["stays_open_at_end"]) == (4, 2)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_garage_energy_is_conserved_and_the_report_complete(garage: dict[str, dict[str, Any]], strategy: str) -> None:
    report = garage[strategy]
    check_report(report, strategy)
    assert report["data"]["stations"] == ["CA-2", "CA-1"]
    assert [s["id"] for s in report["stays"]] == ["s0", "s1", "s2"]
    # The circuit holds the wallboxes to 8 kW together.
    assert report["peak_import_kw"] <= 8.0 + 1e-9


def test_household_costs_of_the_baselines_and_the_optimum(household: dict[str, dict[str, Any]]) -> None:
    costs = figures(household)
    assert costs["uncontrolled"] == HOUSEHOLD["uncontrolled"]
    assert costs["greedy"] == HOUSEHOLD["greedy"]
    assert costs["optimal"] == planned(HOUSEHOLD["optimal"])
    # evcc's own planner serves the car plugged in first; the other one waits (first come, first served).
    assert household["greedy"]["deadline_misses"] == 2
    assert household["uncontrolled"]["evcc_writes"] == 1  # mode now, once
    assert household["optimal"]["optimal"]["gap"] < 0.005
    for strategy in ("uncontrolled", "greedy"):
        assert costs["optimal"][1] < costs[strategy][1]


def test_household_smartload_serves_every_departure_close_to_the_optimum(household: dict[str, dict[str, Any]]) -> None:
    costs = figures(household)
    assert costs["smartload"] == planned(HOUSEHOLD_SMARTLOAD)
    assert costs["optimal"][1] <= costs["smartload"][1] < costs["uncontrolled"][1] < costs["greedy"][1]


def test_commuter_baselines_and_optimum(commuter: dict[str, dict[str, Any]]) -> None:
    costs = figures(commuter)
    for baseline in ("uncontrolled", "greedy"):
        assert costs[baseline] == COMMUTER_COSTS[baseline]
    assert costs["optimal"] == planned(COMMUTER_COSTS["optimal"])
    assert costs["optimal"][1] <= min(costs["uncontrolled"][1], costs["greedy"][1])


def test_commuter_smartload_costs_no_more_than_greedy_and_uncontrolled(commuter: dict[str, dict[str, Any]]) -> None:
    costs = figures(commuter)
    assert costs["smartload"] == planned(COMMUTER_SMARTLOAD)
    assert costs["smartload"][2] == 0
    assert costs["optimal"][1] <= costs["smartload"][1] <= costs["greedy"][1] <= costs["uncontrolled"][1]


def test_garage_costs(garage: dict[str, dict[str, Any]]) -> None:
    costs = figures(garage)
    for baseline in ("uncontrolled", "greedy"):
        assert costs[baseline] == GARAGE_COSTS[baseline]
    assert costs["optimal"] == planned(GARAGE_COSTS["optimal"])
    assert costs["optimal"][1] <= min(costs[s][1] for s in STRATEGIES)


# (cost_adjusted_eur, cost_served_eur, deadline_misses), measured.
HOUSEHOLD = {"uncontrolled": (23.7149, 23.7149, 0), "greedy": (10.7757, 36.5919, 2), "optimal": (21.4128, 21.4128, 0)}
# smartload with planning.switch_penalty_eur 0.05 (hysteresis; 21.6566 and 8.3432 without).
# 21.6331 before the plugged car's lead turn at a shared wallbox (neighbourhood._after_lead);
# 21.5523 before the LP dive (planner/dive.py; speed, issue 19): 39 of the 188 plans are
# the dive's, proven within the gap by the relaxation alone, and the other MILPs start
# from it. Other near-optimal plans, and the simulation's cost follows them: with the
# dives only as proofs 21.6242, only as starts 21.6274, run but unused 21.5499.
# 21.6274 before the shared wallbox's neighbourhoods were searched by planner/branch.py
# instead of HiGHS: near-optimal plans again, here 0.10 EUR cheaper.
HOUSEHOLD_SMARTLOAD = (21.5259, 21.5259, 0)
COMMUTER_COSTS = {"uncontrolled": (9.4282, 9.4282, 0), "greedy": (8.4737, 8.4737, 0), "optimal": (8.2569, 8.2569, 0)}
COMMUTER_SMARTLOAD = (8.3117, 8.3117, 0)
GARAGE_COSTS = {"uncontrolled": (11.19, 11.19, 0), "greedy": (11.0427, 11.0427, 0), "optimal": (10.6578, 10.6578, 0)}
