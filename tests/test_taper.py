"""The taper delay against the simulator's own car: the time it really takes to its target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smartload.sim.scenario import VehicleSpec
from smartload.sim.vehicle import TAPER_FROM_SOC, SimVehicle
from smartload.sinks.taper import MAX_DELAY, taper_delay


def seconds_to_charge(soc: float, target: float, power_w: float = 11_000.0, step_s: float = 1.0) -> float:
    spec = VehicleSpec(title="Zoe", capacity_kwh=52, max_charge_w=power_w, charge_efficiency=0.9)
    car = SimVehicle("zoe", spec, ZoneInfo("UTC"), 1, datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    car.soc_pct = soc
    t = 0.0
    while car.soc_pct < target - 1e-9:
        car.charge(car.max_power_w(step_s), step_s)
        t += step_s
    return t


@pytest.mark.parametrize(("soc", "target"), [(50.0, 90.0), (85.0, 90.0), (30.0, 95.0)])
def test_full_power_time_plus_the_delay_is_the_simulated_cars_time(soc, target):
    full_s = (target - soc) / 100 * 52 / 0.9 / 11.0 * 3600
    delay = taper_delay(52, 0.9, 11_000, soc, target, TAPER_FROM_SOC)
    assert full_s + delay.total_seconds() == pytest.approx(seconds_to_charge(soc, target), abs=2.0)


def test_no_delay_below_the_taper_or_without_one():
    assert taper_delay(52, 0.9, 11_000, 50, 80, 80) == timedelta(0)
    assert taper_delay(52, 0.9, 11_000, 50, 90, None) == timedelta(0)
    assert taper_delay(52, 0.9, 11_000, 92, 90, 80) == timedelta(0)
    assert taper_delay(52, 0.9, 3_700, 50, 100, 80) == MAX_DELAY  # the last percent would take hours
