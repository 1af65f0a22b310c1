"""The end of the horizon: energy left is worth what it saves on the expected day after."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from smartload.planner import BatteryInput, PlannerSettings, Slot, make_plan
from smartload.planner.model import build_model, price_quantile
from smartload.planner.schedule import from_vector, to_vector
from smartload.planner.terminal import AfterHorizon, after_horizon, battery_end_values, car_end_value
from tests.planner.builders import car, hour, problem

APPROX = {"abs": 1e-4}


def _prices(hours: int, start_h: int) -> list[float]:
    """Night and evening 0.30, the sunny day 08-16 0.25, the horizon's last four hours 0.22."""
    prices = []
    for i in range(hours):
        h = (start_h + i) % 24
        prices.append(0.25 if 8 <= h < 16 else 0.30)
    prices[-4:] = [0.22] * 4
    return prices


def _sunny_day() -> tuple[Slot, ...]:
    """From 20:00 to the next day's midnight (28 h): house 400 W, PV 3 kW from 08 to 16."""
    start_h = 20
    prices = _prices(28, start_h)
    return tuple(
        Slot(hour(i), hour(i + 1), p, 0.08, 3000.0 if 8 <= (start_h + i) % 24 < 16 else 0.0, 400.0)
        for i, p in enumerate(prices)
    )


def _full_battery() -> BatteryInput:
    return BatteryInput(capacity_kwh=10.0, soc_pct=100.0, max_charge_w=5000.0, max_discharge_w=5000.0,
                        charge_efficiency=1.0, discharge_efficiency=1.0, wear_eur_per_kwh=0.0)


@pytest.mark.parametrize(("expected", "end_soc_pct"), [
    # The day after repeats the last one: its night takes 3.2 kWh at 0.30, then PV refills
    # the battery, so the rest is worth the feed-in: the last four hours (0.22) use it.
    (True, 68.0),
    # One value per kWh, the horizon's lower quartile (0.25): worth buying at 0.22 in the
    # last four hours, so it ends full.
    (False, 100.0),
])
def test_the_battery_keeps_for_the_end_what_the_next_night_needs(expected, end_soc_pct):
    plan = make_plan(problem(_sunny_day(), bat=_full_battery(), boxes=()),
                     PlannerSettings(expected_end_value=expected))
    assert plan.slots[-1].battery_soc_pct == pytest.approx(end_soc_pct, **APPROX)


def test_the_expected_day_is_the_horizons_last_day_repeated():
    slots = _sunny_day()
    prices = np.array([s.import_eur_per_kwh for s in slots])
    pv = np.array([s.pv_w for s in slots]) / 1000.0
    house = np.full(len(slots), 0.4)
    after = after_horizon(slots[0].start, [s.end for s in slots], prices, np.full(len(slots), 0.08), pv, house,
                          np.ones(len(slots)), 0.5)
    assert after.end == hour(28)
    # Quarter-hours of 00:00-08:00, 08:00-16:00 (sunny), 16:00-20:00 and 20:00-24:00.
    assert after.import_eur_per_kwh[[0, 31, 32, 63, 64, 79, 80, 95]] == pytest.approx(
        [0.30, 0.30, 0.25, 0.25, 0.30, 0.30, 0.22, 0.22])
    assert after.net_kwh[[0, 32, 63, 64]] == pytest.approx([0.1, -0.65, -0.65, 0.1])


def test_a_horizon_under_a_day_expects_the_fallback_where_it_does_not_reach():
    # 16:00 to midnight: 00:00-16:00 of the day after is not in it.
    slots = tuple(Slot(hour(i), hour(i + 1), 0.20 + 0.01 * i, 0.08, 0.0, 800.0) for i in range(8))
    n = len(slots)
    after = after_horizon(slots[0].start, [s.end for s in slots], np.array([s.import_eur_per_kwh for s in slots]),
                          np.full(n, 0.08), np.zeros(n), np.full(n, 0.8), np.ones(n), 0.5)
    assert after.import_eur_per_kwh[[0, 63, 64, 95]] == pytest.approx([0.5, 0.5, 0.20, 0.27])
    # The horizon's mean house load, no PV: 800 W is 0.2 kWh a quarter-hour.
    assert after.net_kwh[[0, 63, 64]] == pytest.approx([0.2, 0.2, 0.2])


def _after(prices: list[float], net: list[float]) -> AfterHorizon:
    return AfterHorizon(hour(0), np.array(prices), np.full(len(prices), 0.08), np.array(net))


@pytest.mark.parametrize(("grid_charge", "kwh", "values"), [
    # The 0.40 deficit could be bought at 0.30 the quarter-hour before.
    (True, [2.0, 8.0], [0.30, 0.09]),
    (False, [1.0, 1.0, 8.0], [0.40, 0.30, 0.09]),
])
def test_battery_values_cover_the_deficits_until_pv_fills_it(grid_charge, kwh, values):
    # 1 kWh deficit at 0.30, 1 kWh at 0.40, then 12 kWh of PV surplus fill it (the 5 kWh
    # deficit after does not count); the feed-in (0.08) is under the floor (0.09).
    segments = battery_end_values(_after([0.30, 0.40, 0.1, 0.5], [1.0, 1.0, -12.0, 5.0]), 1.0, 1.0, 0.0, 10.0,
                                  grid_charge, 0.25, 0.09)
    assert segments[0] == pytest.approx(kwh)
    assert segments[1] == pytest.approx(values)


def test_a_cheaper_refill_before_a_deficit_caps_its_value():
    # 0.10 at the second quarter-hour refills at 0.10 / 0.9 + 0.01 = 0.1211 what the 0.50 deficit takes.
    segments = battery_end_values(_after([0.30, 0.10, 0.50], [1.0, 0.0, 2.0]), 0.9, 0.9, 0.01, 10.0,
                                  True, 0.20, 0.05)
    assert segments[0] == pytest.approx([1.0 / 0.9, 2.0 / 0.9 + 10.0 - 3.0 / 0.9])
    assert segments[1] == pytest.approx([0.9 * 0.30 - 0.01, 0.10 / 0.9 + 0.01])


def test_a_car_leaving_after_the_horizon_is_worth_the_cheapest_expected_price_until_then():
    after = _after([0.30, 0.20, 0.10, 0.05], [0.0] * 4)
    assert car_end_value(after, hour(0) + timedelta(minutes=30), 0.8) == pytest.approx(0.20 / 0.8)
    assert car_end_value(after, None, 0.8) == pytest.approx(0.05 / 0.8)


def test_a_schedule_read_back_keeps_its_end_value():
    """Repairs and warm starts write a schedule back into the model's vector: its end
    segments must be filled as the LP fills them, or the end value is lost."""
    inputs = problem(_sunny_day(), [car(need_kwh=10.0, departure_h=12.0)], bat=_full_battery())
    settings = PlannerSettings(expected_end_value=True)
    model = build_model(inputs, settings)
    plan = make_plan(inputs, settings)
    assert model.battery is not None and model.battery.end_segments is not None
    x = np.zeros(model.program.cost.size)
    soc_end = plan.slots[-1].battery_soc_pct / 100.0 * 10.0
    x[model.battery.soc] = soc_end
    vector = to_vector(model, from_vector(model, x))
    assert vector[model.battery.end_segments] == pytest.approx(model.battery.end_segment_fill(soc_end))
    assert float(vector[model.battery.end_segments] @ model.battery.end_segment_values) == pytest.approx(
        3.2 * 0.30 + (soc_end - 3.2) * 0.080002, abs=1e-6)


def test_a_battery_band_too_narrow_for_a_segment_keeps_the_flat_value():
    """hi - lo below the segments' resolution: no segment to value, the flat value stands
    (an IndexError before)."""
    battery = BatteryInput(capacity_kwh=10.0, soc_pct=50.0, max_charge_w=5000.0, max_discharge_w=5000.0,
                           min_soc_pct=50.0, reserve_soc_pct=0.0, max_soc_pct=50.000000001)
    plan = make_plan(problem(_sunny_day(), bat=battery), PlannerSettings(expected_end_value=True))
    assert plan.status in ("optimal", "feasible")


def test_the_price_quantile_is_numpys_linear_quantile_at_least_zero():
    # Sorted 0.1 0.2 0.3 0.4; the 25 % quantile lies 0.75 of the way from 0.1 to 0.2.
    assert price_quantile(np.array([0.4, 0.1, 0.3, 0.2]), 0.25) == pytest.approx(0.175, abs=1e-12)
    assert price_quantile(np.array([-0.2, -0.1]), 0.5) == 0.0
    rng = np.random.default_rng(7)
    for _ in range(200):
        prices = rng.normal(0.2, 0.1, int(rng.integers(1, 100)))
        q = float(rng.random())
        assert price_quantile(prices, q) == max(0.0, float(np.quantile(prices, q)))
