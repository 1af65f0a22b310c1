"""Charging per evcc mode: off, now, minpv, pv thresholds and delays, limits, plan, smart cost."""

from __future__ import annotations

import pytest

from smartload.sim import planner

from .helpers import FULL_W, MIN_W, local, run, site


def test_off_never_charges():
    s = site(pv_w=20000)
    s.loadpoint(1).set_mode("off")
    run(s, 300)
    lp = s.loadpoint(1)
    assert (lp.enabled, lp.charge_power_w, s.grid_w) == (False, 0.0, -20000.0)


def test_now_charges_at_full_power_from_the_grid():
    s = site()
    s.loadpoint(1).set_mode("now")
    run(s, 10)
    assert s.loadpoint(1).charge_power_w == pytest.approx(FULL_W)
    assert s.grid_w == pytest.approx(FULL_W)


def test_minpv_takes_the_minimum_plus_the_surplus():
    s = site(pv_w=7000)
    s.loadpoint(1).set_mode("minpv")
    run(s, 10)
    assert s.loadpoint(1).charge_power_w == pytest.approx(7000.0)
    assert s.grid_w == pytest.approx(0.0, abs=1e-6)
    s.hold(pv_w=2000.0)
    run(s, 10)
    assert s.loadpoint(1).charge_power_w == pytest.approx(7000.0)
    run(s, 10)
    assert s.loadpoint(1).charge_power_w == pytest.approx(MIN_W)
    assert s.grid_w == pytest.approx(MIN_W - 2000.0)


def test_pv_enables_after_the_delay_and_follows_the_surplus():
    s = site(pv_w=5000)
    lp = s.loadpoint(1)
    run(s, 60)
    assert (lp.charge_power_w, lp.pv_action, lp.pv_remaining_s) == (0.0, "enable", 10.0)
    run(s, 10)
    assert lp.charge_power_w == pytest.approx(MIN_W)
    run(s, 10)
    assert lp.charge_power_w == pytest.approx(5000.0)
    assert lp.pv_action == "inactive"


def test_pv_keeps_the_minimum_during_the_disable_delay_then_stops():
    s = site(pv_w=5000)
    lp = s.loadpoint(1)
    run(s, 80)
    assert lp.charge_power_w == pytest.approx(5000.0)
    s.hold(pv_w=2000.0)
    run(s, 10)
    assert lp.charge_power_w == pytest.approx(5000.0)
    run(s, 180)
    assert lp.charge_power_w == pytest.approx(MIN_W)
    assert (lp.pv_action, lp.pv_remaining_s) == ("disable", 10.0)
    assert s.grid_w == pytest.approx(MIN_W - 2000.0)
    run(s, 10)
    assert (lp.enabled, lp.charge_power_w) == (False, 0.0)


def test_pv_enable_threshold_asks_for_more_export():
    s = site(pv_w=5000)
    s.loadpoint(1).enable_threshold_w = -6000.0
    run(s, 300)
    assert s.loadpoint(1).charge_power_w == 0.0
    s.hold(pv_w=7000.0)
    run(s, 60)
    assert s.loadpoint(1).charge_power_w == 0.0
    run(s, 20)
    assert s.loadpoint(1).charge_power_w > 0.0


def test_pv_switches_to_one_phase_when_the_surplus_is_small():
    s = site(pv_w=3000, loadpoints=[{"title": "Garage", "phases": 3, "phase_switching": True, "mode": "pv"}])
    lp = s.loadpoint(1)
    assert (lp.phases_configured, lp.phases_active) == (0, 3)
    run(s, 170)
    assert (lp.phase_action, lp.phases_active, lp.charge_power_w) == ("scale1p", 3, 0.0)
    run(s, 300)
    assert lp.phases_active == 1
    assert lp.charge_power_w == pytest.approx(3000.0)
    s.hold(pv_w=9000.0)
    run(s, 200)
    assert lp.phases_active == 3
    assert lp.charge_power_w == pytest.approx(9000.0)


def test_limit_soc_stops_charging():
    s = site()
    lp = s.loadpoint(1)
    lp.set_mode("now")
    lp.set_limit_soc(45)
    run(s, 900)
    assert lp.charging
    run(s, 20)
    ev = s.vehicle("ev")
    assert not lp.charging and not lp.enabled
    assert ev.soc_pct == pytest.approx(40 + FULL_W * 910 / 3600 * 0.9 / 50000 * 100)
    assert ev.evcc_soc_pct == ev.soc_pct


def test_vehicle_limit_soc_applies_when_the_session_has_none():
    s = site()
    s.loadpoint(1).set_mode("now")
    s.vehicle("ev").limit_soc_pct = 41
    run(s, 300)
    assert s.loadpoint(1).effective_limit_soc(s.vehicles) == 41
    assert not s.loadpoint(1).charging
    assert 41 <= s.vehicle("ev").soc_pct < 41.1


def test_power_tapers_above_80_percent_and_stops_at_the_cars_limit():
    s = site(vehicles={"ev": {"start": {"soc_pct": 90, "evcc_soc_pct": 90}}})
    s.loadpoint(1).set_mode("now")
    run(s, 10)
    assert s.loadpoint(1).charge_power_w == pytest.approx(6000.0)
    capped = site(vehicles={"ev": {"car_limit_soc_pct": 85, "start": {"soc_pct": 85, "evcc_soc_pct": 85}}})
    capped.loadpoint(1).set_mode("now")
    run(capped, 30)
    assert (capped.loadpoint(1).enabled, capped.loadpoint(1).charge_power_w) == (True, 0.0)


def test_min_soc_fast_charges_in_pv_mode():
    s = site(vehicles={"ev": {"min_soc_pct": 50}})
    run(s, 10)
    assert s.loadpoint(1).charge_power_w == pytest.approx(FULL_W)
    assert s.loadpoint(1).fast_charging


def test_smart_cost_limit_charges_while_the_price_is_at_or_below_it():
    s = site()
    lp = s.loadpoint(1)
    price = s.tariff.price_at(s.t)
    lp.set_smart_cost_limit(price)
    run(s, 10)
    assert lp.smart_cost_active and lp.charge_power_w == pytest.approx(FULL_W)
    lp.set_smart_cost_limit(price - 0.001)
    s.request_control()
    run(s, 10)
    assert not lp.smart_cost_active and lp.charge_power_w == 0.0
    rates = s.tariff.grid_rates(s.t)
    start = lp.smart_cost_next_start
    assert start is not None
    assert all(v > price - 0.001 for t, _, v in rates if s.t - 900 < t < start)
    assert next(v for t, _, v in rates if t == start) <= price - 0.001


def test_a_plan_charges_in_the_cheapest_slots_before_its_time(sim_log):
    s = site("2024-07-15T14:00:00")
    ev, lp = s.vehicle("ev"), s.loadpoint(1)
    target = local("2024-07-16T07:00:00").timestamp()
    ev.plan_soc_pct, ev.plan_time = 60.0, target
    need = planner.required_duration_s(40, 60, 50, FULL_W)
    assert need == pytest.approx(0.2 * 50000 / 0.85 / FULL_W * 3600)
    run(s, 10)
    windows = lp.plan_windows
    assert sum(e - b for b, e, _ in windows) == pytest.approx(need)
    chosen_max = max(v for _, _, v in windows)
    rates = [r for r in s.tariff.grid_rates(s.t) if r[1] <= target]
    unchosen = [v for b, e, v in rates if not any(wb < e and b < we for wb, we, _ in windows)]
    assert chosen_max <= min(unchosen)
    charged_outside = 0.0
    while s.t < target:
        run(s, 10)
        if lp.charging and not lp.plan_active:
            charged_outside += 1
    assert charged_outside == 0
    assert 60.0 <= ev.soc_pct < 61.0
    run(s, 10)
    assert (ev.plan_time, ev.plan_soc_pct, lp.plan_windows) == (None, 0.0, [])
    assert any("charging plan of ev reached its time" in m for m in sim_log)


def test_planner_table():
    rates = [(0.0, 900.0, 0.3), (900.0, 1800.0, 0.1), (1800.0, 2700.0, 0.2), (2700.0, 3600.0, 0.1)]
    assert planner.plan(rates, 0.0, 3600.0, 1200.0) == [(1500.0, 1800.0, 0.1), (2700.0, 3600.0, 0.1)]
    assert planner.plan(rates, 0.0, 3600.0, 4000.0) == [(0.0, 3600.0, 0.3)]
    assert planner.plan(rates[:2], 0.0, 3600.0, 2000.0) == [(0.0, 900.0, 0.3), (900.0, 1800.0, 0.1),
                                                           (3400.0, 3600.0, 0.1)]
    assert planner.plan(rates, 0.0, 3600.0, 0.0) == []
    assert planner.active([(1500.0, 1800.0, 0.1)], 1500.0) and not planner.active([(1500.0, 1800.0, 0.1)], 1800.0)
