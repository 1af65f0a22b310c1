"""Explanations: one short reason per slot and device, in the site's timezone."""

from __future__ import annotations

import pytest

from smartload.planner import BATTERY, PlannerSettings, make_plan

from .builders import battery, car, hourly, problem

BERLIN = PlannerSettings(timezone="Europe/Berlin")


def test_battery_kept_for_the_peak_then_covering_it():
    # 4.5 kWh can come out of the battery (5 kWh stored at 90 %): 4 for the 0.50 house load
    # at 02:00 UTC, the other 0.5 at 0.30 first; it holds through the 0.25 hour between
    # (refilling 0.5 kWh there would cost 0.617 x 0.25 + wear 0.022 > the 0.15 it saves).
    slots = hourly([0.30, 0.25, 0.50], house_w=[1000.0, 1000.0, 4000.0])
    plan = make_plan(problem(slots, bat=battery(soc_pct=50.0)), BERLIN)
    assert [s.battery_discharge_w for s in plan.slots] == pytest.approx([500.0, 0.0, 4000.0], abs=1e-3)
    assert [s.reasons[BATTERY] for s in plan.slots] == [
        "covering the house at 0.30 EUR/kWh",
        "battery kept for the 03:00 peak",  # 02:00 UTC is 03:00 in Berlin in January
        "covering the house at 0.50 EUR/kWh",
    ]


def test_car_reasons_use_the_site_timezone_and_every_slot_has_one():
    plan = make_plan(problem(hourly([0.30, 0.10]), [car(need_kwh=5.0)]), BERLIN)
    assert [s.reasons["A"] for s in plan.slots] == [
        "waiting for cheaper slots before 03:00",
        "cheapest slots before 03:00 (0.10 EUR/kWh)",
    ]
    assert plan.cars["A"].reason == "target by 03:00: 5.0 kWh for 0.50 EUR"
    devices = {e.device for e in plan.explanations}
    assert devices == {"A"}
    assert len(plan.reasons_for("A")) == len(plan.slots) + 1  # one per slot, one for the plan


def test_a_car_without_need_says_so():
    plan = make_plan(problem(hourly([0.30]), [car(need_kwh=0.0, departure_h=1.0)]), BERLIN)
    assert plan.slots[0].reasons["A"] == "no charge needed"
    assert plan.cars["A"].reason == "no charge needed"
    assert plan.slots[0].cars["A"].power_w == 0.0
