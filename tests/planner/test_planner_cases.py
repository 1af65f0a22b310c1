"""Hand-checkable planner cases: each figure below is worked out in the comment beside it."""

from __future__ import annotations

import pytest

from smartload.planner import BATTERY, PlannerSettings, WallboxInput, make_plan

from .builders import BOX, battery, car, hour, hourly, problem

APPROX = {"abs": 1e-3}
SETTINGS = PlannerSettings()


def test_car_charges_in_the_cheap_slot_at_the_exact_cost():
    # 5 kWh needed by 02:00; 0.30 EUR/kWh in the first hour, 0.10 in the second.
    plan = make_plan(problem(hourly([0.30, 0.10]), [car(need_kwh=5.0)]), SETTINGS)
    assert plan.status == "optimal"
    assert [s.cars["A"].power_w for s in plan.slots] == pytest.approx([0.0, 5000.0], **APPROX)
    assert [s.cars["A"].wallbox_id for s in plan.slots] == [None, 1]
    assert [s.grid_import_w for s in plan.slots] == pytest.approx([0.0, 5000.0], **APPROX)
    assert plan.cost_eur == pytest.approx(0.50, abs=1e-6)  # 5 kWh x 0.10
    assert plan.cars["A"].cost_eur == pytest.approx(0.50, abs=1e-6)
    assert plan.cars["A"].final_soc_pct == pytest.approx(60.0)
    assert plan.cars["A"].shortfall_kwh == pytest.approx(0.0, abs=1e-6)
    assert plan.slots[0].reasons["A"] == "waiting for cheaper slots before 02:00"
    assert plan.slots[1].reasons["A"] == "cheapest slots before 02:00 (0.10 EUR/kWh)"


def test_a_target_out_of_reach_is_a_reported_shortfall_not_an_infeasible_plan():
    # 20 kWh needed in one hour at 11,040 W: 11.04 kWh charged, 8.96 kWh short.
    plan = make_plan(problem(hourly([0.30]), [car(need_kwh=20.0, departure_h=1.0)]), SETTINGS)
    assert plan.status in ("optimal", "feasible")
    assert plan.slots[0].cars["A"].power_w == pytest.approx(11_040.0, **APPROX)
    assert plan.cars["A"].shortfall_kwh == pytest.approx(8.96, abs=1e-6)
    assert plan.cars["A"].energy_charged_kwh == pytest.approx(11.04, abs=1e-6)
    assert plan.cars["A"].reason == "target cannot be reached by 01:00: 9.0 kWh short"
    assert plan.slots[0].reasons["A"] == "full power: target cannot be reached by 01:00: 9.0 kWh short"


def test_pv_surplus_charges_the_car_without_import():
    # 8 kW PV, 1 kW house: 7 kW surplus; the car takes 5 kWh of it, 2 kWh go out at 0.08.
    slots = hourly([0.30, 0.30], export=0.08, pv_w=[8000.0, 0.0], house_w=[1000.0, 0.0])
    plan = make_plan(problem(slots, [car(need_kwh=5.0)]), SETTINGS)
    first = plan.slots[0]
    assert first.cars["A"].power_w == pytest.approx(5000.0, **APPROX)
    assert first.grid_import_w == pytest.approx(0.0, **APPROX)
    assert first.grid_export_w == pytest.approx(2000.0, **APPROX)
    assert plan.slots[1].cars["A"].power_w == pytest.approx(0.0, **APPROX)
    assert plan.cost_eur == pytest.approx(-0.16, abs=1e-6)  # 2 kWh x 0.08 earned
    assert plan.cars["A"].cost_eur == pytest.approx(0.40, abs=1e-6)  # 5 kWh of forgone feed-in
    assert first.reasons["A"] == "PV surplus"


def test_negative_prices_import_and_charge_and_avoid_export():
    # Hour 1: import -0.05, feed-in -0.10, 3 kW PV, 0.5 kW house. The car takes its 10 kWh
    # then: 0.5 + 10 - 3 = 7.5 kWh imported, nothing exported. Hour 2 costs 0.30.
    slots = hourly([-0.05, 0.30], export=-0.10, pv_w=[3000.0, 0.0], house_w=[500.0, 0.0])
    plan = make_plan(problem(slots, [car(need_kwh=10.0)]), SETTINGS)
    first = plan.slots[0]
    assert first.cars["A"].power_w == pytest.approx(10_000.0, **APPROX)
    assert first.grid_import_w == pytest.approx(7500.0, **APPROX)
    assert first.grid_export_w == pytest.approx(0.0, **APPROX)
    assert plan.cost_eur == pytest.approx(-0.375, abs=1e-6)  # 7.5 kWh x -0.05
    assert first.reasons["A"] == "negative price (-0.05 EUR/kWh): charging is paid"


def test_negative_import_with_positive_feed_in_never_imports_and_exports_at_once():
    # Feed-in 0.08 above an import price of -0.05 would pay for importing and exporting at
    # once without limit; the exclusivity binary forbids it. The car takes 10 kWh, PV 3 kW.
    slots = hourly([-0.05, 0.30], export=0.08, pv_w=[3000.0, 0.0], house_w=[500.0, 0.0])
    plan = make_plan(problem(slots, [car(need_kwh=10.0)]), SETTINGS)
    first = plan.slots[0]
    assert min(first.grid_import_w, first.grid_export_w) == pytest.approx(0.0, abs=1e-6)
    assert first.grid_import_w == pytest.approx(7500.0, **APPROX)
    assert plan.cost_eur == pytest.approx(-0.375, abs=1e-6)


def test_battery_arbitrage_when_the_spread_beats_losses_and_wear():
    # Charge 5 kWh at 0.10 (4.5 kWh stored), give 4.05 kWh back at 0.40 against a 5 kWh
    # house load: gain 0.40 x 4.05 = 1.62 for 0.50 + wear 0.02 x (5 + 4.05) = 0.681.
    slots = hourly([0.10, 0.40], house_w=[0.0, 5000.0])
    plan = make_plan(problem(slots, bat=battery()), SETTINGS)
    assert [s.battery_charge_w for s in plan.slots] == pytest.approx([5000.0, 0.0], **APPROX)
    assert [s.battery_discharge_w for s in plan.slots] == pytest.approx([0.0, 4050.0], **APPROX)
    assert [s.battery_soc_pct for s in plan.slots] == pytest.approx([45.0, 0.0], **APPROX)
    assert [s.grid_import_w for s in plan.slots] == pytest.approx([5000.0, 950.0], **APPROX)
    assert plan.cost_eur == pytest.approx(0.50 + 0.38, abs=1e-6)
    assert plan.slots[0].reasons[BATTERY] == "charging from the grid at 0.10 EUR/kWh to discharge at the 01:00 peak"
    assert plan.slots[1].reasons[BATTERY] == "covering the house at 0.40 EUR/kWh"


def test_no_battery_arbitrage_when_the_spread_does_not_beat_losses_and_wear():
    # Break-even needs 0.81 x p - 0.02 x 0.81 > 0.10 + 0.02, i.e. p > 0.168; at 0.16 it idles.
    slots = hourly([0.10, 0.16], house_w=[0.0, 5000.0])
    plan = make_plan(problem(slots, bat=battery()), SETTINGS)
    assert [s.battery_charge_w for s in plan.slots] == pytest.approx([0.0, 0.0], **APPROX)
    assert [s.battery_discharge_w for s in plan.slots] == pytest.approx([0.0, 0.0], **APPROX)
    assert plan.cost_eur == pytest.approx(0.80, abs=1e-6)  # 5 kWh x 0.16
    assert plan.slots[0].reasons[BATTERY] == "at its minimum SoC"


def test_two_cars_on_one_wallbox_each_charge_before_departure_one_at_a_time():
    # A is plugged in and leaves at 04:00, B waits and leaves at 02:00; 10 kWh each.
    # B takes the 0.10 hour before 02:00, A the 0.12 hour after: 1.00 + 1.20 EUR, two plug-ins.
    slots = hourly([0.30, 0.10, 0.12, 0.25])
    a = car("A", need_kwh=10.0, departure_h=4.0, wallbox=1)
    b = car("B", need_kwh=10.0, departure_h=2.0, wallbox=None, allowed_wallboxes=(1,))
    plan = make_plan(problem(slots, [a, b]), SETTINGS)
    assert [s.cars["A"].power_w for s in plan.slots] == pytest.approx([0, 0, 10_000, 0], **APPROX)
    assert [s.cars["B"].power_w for s in plan.slots] == pytest.approx([0, 10_000, 0, 0], **APPROX)
    assert [s.cars["B"].wallbox_id for s in plan.slots] == [None, 1, None, None]
    for s in plan.slots:
        assert sum(1 for c in s.cars.values() if c.charging) <= 1
    assert plan.cars["A"].shortfall_kwh == pytest.approx(0.0, abs=1e-6)
    assert plan.cars["B"].shortfall_kwh == pytest.approx(0.0, abs=1e-6)
    assert plan.cost_eur == pytest.approx(2.20, abs=1e-6)
    assert plan.objective_eur == pytest.approx(2.20 + 2 * SETTINGS.swap_penalty_eur, abs=1e-3)
    assert plan.slots[0].reasons["B"] == "waiting for cheaper slots before 02:00"
    assert plan.slots[1].reasons["A"] == "wallbox 1 in use by B"


def test_a_waiting_car_charges_only_after_it_is_available():
    # B could take the cheap first hour, but is only available from 01:00.
    slots = hourly([0.10, 0.20, 0.30])
    b = car("B", need_kwh=5.0, departure_h=3.0, wallbox=None, allowed_wallboxes=(1,), available_from=hour(1))
    plan = make_plan(problem(slots, [b]), SETTINGS)
    assert [s.cars["B"].power_w for s in plan.slots] == pytest.approx([0, 5000, 0], **APPROX)
    assert plan.slots[0].reasons["B"] == "can charge from 01:00"


def test_semi_continuous_minimum_moves_a_pv_trickle_to_a_full_slot():
    # 2 kW PV in hour 1 is below the 4,140 W minimum. Charging 6 kWh in hour 2 (1.20) and
    # exporting the PV (-0.16) costs 1.04; any use of hour 1 costs more (e.g. 1.36).
    slots = hourly([0.30, 0.20], export=0.08, pv_w=[2000.0, 0.0])
    plan = make_plan(problem(slots, [car(need_kwh=6.0)]), SETTINGS)
    assert [s.cars["A"].power_w for s in plan.slots] == pytest.approx([0.0, 6000.0], **APPROX)
    assert plan.cost_eur == pytest.approx(1.04, abs=1e-6)
    relaxed = make_plan(problem(slots, [car(need_kwh=6.0)]), PlannerSettings(semi_continuous=False))
    # Without the minimum the car would take the 2 kWh of PV: 0.16 + 0.80 = 0.96.
    assert [s.cars["A"].power_w for s in relaxed.slots] == pytest.approx([2000.0, 4000.0], **APPROX)


def test_a_need_below_one_slot_at_minimum_power_is_still_charged():
    # 1 kWh needed, but an hour at the 4,140 W minimum is 4.14 kWh: the car stops at its limit.
    plan = make_plan(problem(hourly([0.30]), [car(need_kwh=1.0, departure_h=1.0)]), SETTINGS)
    assert plan.slots[0].cars["A"].power_w == pytest.approx(4140.0, **APPROX)
    assert plan.cars["A"].shortfall_kwh == pytest.approx(0.0, abs=1e-6)
    assert plan.cars["A"].final_soc_pct == pytest.approx(52.0)


def test_grid_import_limit_is_respected():
    # 7 kW fuse, 2 kW house: the car gets at most 5 kW. 9.5 kWh by 02:00 -> 5 at 0.10 and
    # 4.5 at 0.20: (2 + 5) x 0.10 + (2 + 4.5) x 0.20 = 0.70 + 1.30.
    slots = hourly([0.10, 0.20], house_w=[2000.0, 2000.0])
    plan = make_plan(problem(slots, [car(need_kwh=9.5)]), PlannerSettings(grid_import_limit_w=7000.0))
    assert [s.grid_import_w for s in plan.slots] == pytest.approx([7000.0, 6500.0], **APPROX)
    assert [s.cars["A"].power_w for s in plan.slots] == pytest.approx([5000.0, 4500.0], **APPROX)
    assert plan.cost_eur == pytest.approx(0.70 + 1.30, abs=1e-6)


def test_the_wallbox_minimum_can_leave_a_car_short_under_a_fuse():
    # As above but 8 kWh: 5 + 3 would do, yet 3 kWh in an hour is under the 4,140 W minimum
    # and 4.14 + 4.14 overfills the car. So 5 kWh now and 3 kWh short, honestly reported.
    slots = hourly([0.10, 0.20], house_w=[2000.0, 2000.0])
    plan = make_plan(problem(slots, [car(need_kwh=8.0)]), PlannerSettings(grid_import_limit_w=7000.0))
    assert [s.cars["A"].power_w for s in plan.slots] == pytest.approx([5000.0, 0.0], **APPROX)
    assert plan.cars["A"].shortfall_kwh == pytest.approx(3.0, abs=1e-6)


def test_grid_limit_below_the_house_load_is_reported_not_infeasible():
    # A 1 kW limit under a 2 kW house load cannot hold; the car stays off, the plan stands.
    slots = hourly([0.10], house_w=[2000.0])
    plan = make_plan(problem(slots, [car(need_kwh=5.0, departure_h=1.0)]), PlannerSettings(grid_import_limit_w=1000.0))
    assert plan.slots[0].grid_import_w == pytest.approx(2000.0, **APPROX)
    assert plan.slots[0].cars["A"].power_w == pytest.approx(0.0, **APPROX)
    assert plan.cars["A"].shortfall_kwh == pytest.approx(5.0, abs=1e-6)


def test_a_higher_priority_car_is_served_first_when_not_both_can_be():
    # One hour, two wallboxes, a 15 kW fuse: 15 kWh for 2 x 10 kWh needs; B (priority 1)
    # gets its 10, A the other 5.
    boxes = (BOX, WallboxInput(id=2))
    a = car("A", need_kwh=10.0, departure_h=1.0, wallbox=1)
    b = car("B", need_kwh=10.0, departure_h=1.0, wallbox=2, priority=1)
    plan = make_plan(problem(hourly([0.20]), [a, b], boxes=boxes), PlannerSettings(grid_import_limit_w=15_000.0))
    assert plan.cars["B"].shortfall_kwh == pytest.approx(0.0, abs=1e-6)
    assert plan.cars["A"].shortfall_kwh == pytest.approx(5.0, abs=1e-6)


def test_a_car_leaving_after_the_horizon_charges_only_what_cannot_wait():
    # Departure 10 h after the 1 h horizon ends; 11.04 kW could add 110 kWh later, so nothing
    # is required now, and at 0.30 (the horizon's only price, no cheaper) nothing is charged.
    plan = make_plan(problem(hourly([0.30]), [car(need_kwh=20.0, departure_h=11.0)]), SETTINGS)
    assert plan.slots[0].cars["A"].power_w == pytest.approx(0.0, **APPROX)
    assert plan.cars["A"].shortfall_kwh == pytest.approx(0.0, abs=1e-6)


def test_flat_tariff_prefers_the_earliest_slots():
    # Equal prices: the tie-break charges as early as possible instead of anywhere.
    plan = make_plan(problem(hourly([0.25, 0.25, 0.25]), [car(need_kwh=5.0, departure_h=3.0)]), SETTINGS)
    assert [s.cars["A"].power_w for s in plan.slots] == pytest.approx([5000, 0, 0], **APPROX)


def test_current_slot_is_the_first_slot_or_the_one_holding_the_time():
    plan = make_plan(problem(hourly([0.30, 0.10]), [car(need_kwh=5.0)]), SETTINGS)
    assert plan.current_slot() is plan.slots[0]
    assert plan.current_slot(hour(1.5)) is plan.slots[1]
    assert plan.current_slot(hour(2.0)) is None
    assert plan.horizon_end == hour(2)


def test_the_battery_is_never_discharged_into_the_grid():
    # Hour 0: 6 kW PV, no load, feed-in 0.08; hour 1 pays 0.40 for each kWh imported. A full
    # battery emptied into the grid at 0.08 and refilled at -0.40 would earn 5 x 0.08 +
    # 5.56 x 0.40, but evcc can only let it cover the site's own deficit: the PV is exported,
    # and the battery, already full, takes nothing in hour 1 either.
    slots = hourly([0.30, -0.40], export=0.08, pv_w=[6000.0, 0.0], house_w=[0.0, 0.0])
    plan = make_plan(problem(slots, bat=battery(soc_pct=100.0)), SETTINGS)
    assert [s.battery_discharge_w for s in plan.slots] == pytest.approx([0.0, 0.0], **APPROX)
    assert [s.grid_export_w for s in plan.slots] == pytest.approx([6000.0, 0.0], **APPROX)
    assert plan.cost_eur == pytest.approx(-0.48, abs=1e-6)  # 6 kWh x 0.08 earned


def test_pv_surplus_fills_the_battery_before_the_grid_when_the_inverter_works_so():
    # Hour 0: 3 kW PV, no load, feed-in 0.08; hour 1 pays 0.40 per kWh imported. An empty
    # 5 kWh battery would rather stay empty for hour 1 (5 kWh at -0.40) and export the PV,
    # but its inverter stores PV surplus first: 3 kWh in (2.7 stored), then the 2.3 kWh of
    # room left takes 2.3 / 0.9 = 2.556 kWh from the grid at -0.40.
    slots = hourly([0.30, -0.40], export=0.08, pv_w=[3000.0, 0.0], house_w=[0.0, 0.0])
    free = make_plan(problem(slots, bat=battery(capacity_kwh=5.0)), SETTINGS)
    assert [s.grid_export_w for s in free.slots] == pytest.approx([3000.0, 0.0], **APPROX)
    plan = make_plan(problem(slots, bat=battery(capacity_kwh=5.0, surplus_charges_first=True)), SETTINGS)
    assert [s.battery_charge_w for s in plan.slots] == pytest.approx([3000.0, 2555.556], **APPROX)
    assert [s.grid_export_w for s in plan.slots] == pytest.approx([0.0, 0.0], **APPROX)
    assert plan.cost_eur == pytest.approx(-2.3 / 0.9 * 0.40, abs=1e-6)


def test_pv_surplus_beyond_the_battery_s_power_is_exported_while_it_charges_at_its_limit():
    # 8 kW PV, 1 kW house, an empty battery charging at most 5 kW: 2 kW go out. Stored
    # energy is worth nothing here (no later load, no value at the end, wear to pay), so
    # without the rule the plan would export all 7 kW and leave the battery empty.
    slots = hourly([0.30, 0.0], export=0.08, pv_w=[8000.0, 0.0], house_w=[1000.0, 0.0])
    plan = make_plan(problem(slots, bat=battery(surplus_charges_first=True)), SETTINGS)
    assert plan.slots[0].battery_charge_w == pytest.approx(5000.0, **APPROX)
    assert plan.slots[0].grid_export_w == pytest.approx(2000.0, **APPROX)


def test_the_battery_does_not_cycle_to_burn_energy_for_a_negative_price_later():
    # A full 5 kWh battery, no load, 0.30 then -0.40. Charging and discharging 5 kW at once
    # in hour 0 would burn 5/0.9 - 5 x 0.9 = 1.056 kWh and make room for 1.17 kWh at -0.40
    # in hour 1, but a battery charges or discharges: it idles, and the plan costs nothing.
    slots = hourly([0.30, -0.40], export=0.08, pv_w=[0.0, 0.0], house_w=[0.0, 0.0])
    plan = make_plan(problem(slots, bat=battery(capacity_kwh=5.0, soc_pct=100.0, wear_eur_per_kwh=0.0)), SETTINGS)
    assert [s.battery_charge_w for s in plan.slots] == pytest.approx([0.0, 0.0], **APPROX)
    assert [s.battery_discharge_w for s in plan.slots] == pytest.approx([0.0, 0.0], **APPROX)
    assert plan.cost_eur == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(("value", "charged_kwh"), [
    (None, 11.04),  # the horizon's lower quartile, 0.225: only the 0.20 hour is worth filling
    (0.35, 20.0),   # worth more than both hours: all 20 kWh now
    (0.10, 8.96),   # worth less than either: only what cannot wait
])
def test_energy_for_a_car_leaving_after_the_horizon_is_worth_the_terminal_value(value, charged_kwh):
    # The car leaves 1 h after the two known hours (0.30, 0.20) and needs 20 kWh: 11.04 can
    # still come in that last hour, so 8.96 must come now and the rest is worth the value.
    plan = make_plan(problem(hourly([0.30, 0.20]), [car(need_kwh=20.0, departure_h=3.0)]),
                     PlannerSettings(terminal_value_eur_per_kwh=value))
    assert sum(s.cars["A"].power_w for s in plan.slots) / 1000.0 == pytest.approx(charged_kwh, **APPROX)
    assert plan.slots[1].cars["A"].power_w == pytest.approx(min(11_040.0, charged_kwh * 1000.0), **APPROX)
