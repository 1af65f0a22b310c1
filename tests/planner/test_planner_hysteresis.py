"""Hysteresis: each charging block a car starts costs PlannerSettings.switch_penalty_eur,
counting from the action in force (CarInput.charging_now), so plans charge in blocks and
a re-plan does not toggle the wallbox for a slot that saves less than the penalty."""

from __future__ import annotations

from dataclasses import replace

import pytest

from smartload.planner import PlannerSettings, make_plan

from .builders import car, hourly, problem

# Proven optima of the whole model: the cases differ by less than the default 0.5 % gap.
FREE = PlannerSettings(switch_penalty_eur=0.0, mip_rel_gap=0.0, lp_guided=False)
STICKY = PlannerSettings(switch_penalty_eur=0.05, mip_rel_gap=0.0, lp_guided=False)


def blocks(values: list[float]) -> int:
    return sum(1 for before, now in zip([0.0, *values], values, strict=False) if now > 0 and before == 0)


def powers(plan: object) -> list[float]:
    return [round(s.cars["A"].power_w) for s in plan.slots]  # type: ignore[attr-defined]


def test_near_equal_prices_give_one_charging_block_instead_of_two():
    # 15 kWh by 04:00, 4.14 to 11.04 kWh an hour; 0.20, 0.21, 0.2005 and 0.21 EUR/kWh.
    # Without the penalty: 10.86 kWh in hour 0 and the minimum 4.14 in hour 2, 3.0021 EUR,
    # two blocks. With it: hours 0 and 1 in one block, 10.86 x 0.20 + 4.14 x 0.21 = 3.0414
    # EUR + 0.05 for one start, against 3.0021 + 2 x 0.05 = 3.1021 for two (and 3.0435 +
    # 0.05 for the block of hours 0 to 2).
    cars = [car(need_kwh=15.0, departure_h=4.0)]
    split = make_plan(problem(hourly([0.20, 0.21, 0.2005, 0.21]), cars), FREE)
    block = make_plan(problem(hourly([0.20, 0.21, 0.2005, 0.21]), cars), STICKY)
    assert powers(split) == [10860, 0, 4140, 0]
    assert powers(block) == [10860, 4140, 0, 0]
    assert split.cost_eur == pytest.approx(3.00207, abs=1e-6)
    assert block.cost_eur == pytest.approx(3.0414, abs=1e-6)
    # The service's planner searches the relaxation's neighbourhood: one block there too,
    # hours 0 to 2 (3.0435 EUR), within the 0.5 % it may stop at.
    guided = make_plan(problem(hourly([0.20, 0.21, 0.2005, 0.21]), cars), PlannerSettings(switch_penalty_eur=0.05))
    assert blocks(powers(guided)) == 1
    assert guided.cost_eur <= 3.0435 + 1e-6


def test_a_charging_car_goes_on_unless_stopping_saves_more_than_the_penalty():
    # 5 kWh by 03:00; the hour now costs 0.2001, the next ones 0.20: waiting saves 0.05 ct.
    slots = hourly([0.2001, 0.20, 0.20])
    charging = replace(car(need_kwh=5.0, departure_h=3.0), charging_now=True)
    idle = replace(charging, charging_now=False)
    assert powers(make_plan(problem(slots, [charging]), FREE)) == [0, 5000, 0]
    assert powers(make_plan(problem(slots, [charging]), STICKY)) == [5000, 0, 0]
    assert powers(make_plan(problem(slots, [idle]), STICKY)) == [0, 5000, 0]
    # A real saving still stops it: 0.30 now against 0.20 later saves 0.50 EUR.
    assert powers(make_plan(problem(hourly([0.30, 0.20, 0.20]), [charging]), STICKY)) == [0, 5000, 0]
