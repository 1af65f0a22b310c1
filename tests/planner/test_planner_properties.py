"""Properties every plan must have, on small random problems (4-12 quarter-hours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartload.planner import (
    BatteryInput,
    CarInput,
    Plan,
    PlannerInput,
    PlannerSettings,
    Slot,
    WallboxInput,
    make_plan,
)
from smartload.planner.cars import min_power_w

T0 = datetime(2024, 5, 1, 18, tzinfo=UTC)
Q = timedelta(minutes=15)
TOL_W = 1e-2


@st.composite
def problems(draw: st.DrawFn) -> tuple[PlannerInput, PlannerSettings]:
    n = draw(st.integers(4, 12))
    first_min = draw(st.sampled_from([15, 15, 8, 1]))  # the first slot shortened to now
    now = T0 + Q - timedelta(minutes=first_min)
    edges = [now] + [T0 + Q * (i + 1) for i in range(n)]
    price = st.floats(-0.10, 0.60, allow_nan=False).map(lambda v: round(v, 3))
    power = st.floats(0.0, 9000.0, allow_nan=False).map(lambda v: round(v))
    slots = tuple(
        Slot(edges[i], edges[i + 1], draw(price), draw(st.sampled_from([0.0, 0.08, -0.05])),
             draw(power), draw(st.floats(0.0, 4000.0).map(round)))
        for i in range(n)
    )
    boxes = tuple(WallboxInput(id=i + 1, phases=draw(st.sampled_from([1, 3])))
                  for i in range(draw(st.integers(1, 2))))
    cars = []
    plugged: set[int] = set()
    for k in range(draw(st.integers(0, 3))):
        box = draw(st.sampled_from([b.id for b in boxes]))
        here = box if box not in plugged and draw(st.booleans()) else None
        if here is not None:
            plugged.add(here)
        cars.append(CarInput(
            name=f"car{k}", capacity_kwh=draw(st.sampled_from([20.0, 50.0])),
            soc_pct=draw(st.sampled_from([10.0, 50.0, 79.0, 95.0])), target_soc_pct=80.0,
            departure=edges[draw(st.integers(1, n))] if draw(st.integers(0, 4)) else None,
            priority=draw(st.integers(0, 1)), max_charge_w=draw(st.sampled_from([3680.0, 11_040.0])),
            charge_efficiency=0.9, wallbox_id=here, allowed_wallboxes=(box,),
            available_from=edges[draw(st.integers(0, n - 1))] if here is None else None,
        ))
    bat = None
    if draw(st.booleans()):
        bat = BatteryInput(capacity_kwh=10.0, soc_pct=draw(st.sampled_from([0.0, 5.0, 50.0, 100.0])),
                           max_charge_w=5000.0, max_discharge_w=4000.0, min_soc_pct=10.0, max_soc_pct=90.0,
                           reserve_soc_pct=draw(st.sampled_from([0.0, 20.0])),
                           allow_grid_charge=draw(st.booleans()))
    limit = draw(st.sampled_from([None, None, 6000.0, 15_000.0]))
    mode = draw(st.sampled_from(["milp", "milp", "relaxation"]))
    return PlannerInput(now, slots, bat, boxes, tuple(cars)), PlannerSettings(grid_import_limit_w=limit, mode=mode)


def check(plan: Plan, inputs: PlannerInput, config: PlannerSettings) -> None:
    assert plan.status in ("optimal", "feasible", "fallback")
    boxes = {b.id: b for b in inputs.wallboxes}
    cars = {c.name: c for c in inputs.cars}
    bat = inputs.battery
    for s in plan.slots:
        car_w = sum(c.power_w for c in s.cars.values())
        # The energy balance holds in every slot.
        assert s.pv_w + s.grid_import_w + s.battery_discharge_w == pytest.approx(
            s.house_w + car_w + s.grid_export_w + s.battery_charge_w, abs=TOL_W)
        assert min(s.grid_import_w, s.grid_export_w) <= TOL_W
        if config.grid_import_limit_w is not None and s.grid_import_w > config.grid_import_limit_w + TOL_W:
            # Only the house (which the plan cannot move) may push import over the limit.
            assert car_w <= TOL_W and s.battery_charge_w <= TOL_W
        charging = [(name, c) for name, c in s.cars.items() if c.charging]
        assert len({c.wallbox_id for _, c in charging}) == len(charging)  # one car per wallbox
        for name, c in charging:
            car, box = cars[name], boxes[c.wallbox_id]
            assert c.wallbox_id in car.wallbox_ids
            assert min_power_w(car, box) - TOL_W <= c.power_w <= min(car.max_charge_w, box.max_power_w) + TOL_W
            assert car.departure is None or s.end <= car.departure
            if c.wallbox_id != car.wallbox_id and car.available_from is not None:
                assert s.start >= car.available_from
        for name, c in s.cars.items():
            car = cars[name]
            if c.soc_pct is not None and car.soc_pct is not None:
                assert car.soc_pct - 1e-9 <= c.soc_pct <= max(car.soc_pct, car.target_soc_pct) + 1e-9
        if bat is None:
            assert s.battery_soc_pct is None
            continue
        assert s.battery_charge_w <= bat.max_charge_w + TOL_W
        assert s.battery_discharge_w <= bat.max_discharge_w + TOL_W
        assert min(s.battery_charge_w, s.battery_discharge_w) <= TOL_W
        lo = min(max(bat.min_soc_pct, bat.reserve_soc_pct), bat.soc_pct)
        hi = max(bat.max_soc_pct, bat.soc_pct)
        assert s.battery_soc_pct is not None and lo - 1e-6 <= s.battery_soc_pct <= hi + 1e-6
        if not bat.allow_grid_charge:
            assert s.battery_charge_w <= max(0.0, s.pv_w - s.house_w) + TOL_W
    for result in plan.cars.values():
        assert result.shortfall_kwh >= -1e-9
        assert result.energy_added_kwh <= max(result.need_kwh, 0.0) + 4.0  # at most one slot over
    assert len(plan.slots) == len(inputs.slots)


@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_plan_is_physical(case: tuple[PlannerInput, PlannerSettings]) -> None:
    inputs, config = case
    check(make_plan(inputs, config), inputs, config)
