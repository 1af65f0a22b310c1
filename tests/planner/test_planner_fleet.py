"""Fleets: the arrival-order plug-ins kept, the charging planned within them; the time
limit covers the whole make_plan; the gap is on energy cost."""

from __future__ import annotations

import pytest

from smartload.planner import PlannerSettings, WallboxInput, make_plan
from smartload.planner import fleet as fleet_module
from smartload.planner.cars import car_needs, car_pairs
from smartload.planner.devices import pair_contested
from smartload.planner.fleet import is_fleet

from .builders import car, hour, hourly, problem

BOXES = (WallboxInput(id=1), WallboxInput(id=2))
# Three cars, two wallboxes, any car at any wallbox: A plugged in at 1, B arrives at
# hour 0 and C at hour 1, both free to take either wallbox. Hour 2 is cheapest.
SLOTS = hourly([0.30, 0.30, 0.10, 0.10])
CARS = [
    car("A", need_kwh=10.0, departure_h=4.0, wallbox=1, allowed_wallboxes=(1, 2)),
    car("B", need_kwh=10.0, departure_h=4.0, wallbox=None, allowed_wallboxes=(1, 2), available_from=hour(0)),
    car("C", need_kwh=10.0, departure_h=4.0, wallbox=None, allowed_wallboxes=(1, 2), available_from=hour(1)),
]
INPUT = problem(SLOTS, CARS, boxes=BOXES)


def test_contested_pairs_are_counted_once_per_wallbox_and_per_car():
    settings = PlannerSettings()
    pairs = car_pairs(INPUT, settings, car_needs(INPUT, settings))
    assert len(pairs) == 6
    assert pair_contested(pairs) == [True] * 6
    single = problem(SLOTS, [car("A", wallbox=1)], boxes=BOXES)
    assert pair_contested(car_pairs(single, settings, car_needs(single, settings))) == [False]


def test_a_fleet_keeps_the_arrival_order_plug_ins_and_charges_every_car(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(fleet_module, "FLEET_PAIR_SLOTS", 0)
    settings = PlannerSettings()
    assert is_fleet(car_pairs(INPUT, settings, car_needs(INPUT, settings)))
    plan = make_plan(INPUT, settings)
    assert plan.status == "feasible"
    assert plan.gap is None
    assert plan.search_gap_eur is None  # its stays are chosen afresh each time: never kept on its word
    # A stays at 1, B takes 2 (the earliest arrival at the free wallbox); C waits for
    # whichever frees first. Every car gets its 10 kWh, within its stay.
    for name in ("A", "B", "C"):
        assert plan.cars[name].energy_added_kwh == pytest.approx(10.0, abs=1e-6)
    assert {plan.slots[0].cars["A"].wallbox_id, plan.slots[0].cars["B"].wallbox_id} <= {1, 2, None}
    for s in plan.slots:
        boxes = [c.wallbox_id for c in s.cars.values() if c.charging]
        assert len(boxes) == len(set(boxes))


def test_the_time_limit_covers_build_solve_and_assembly():
    plan = make_plan(INPUT, PlannerSettings(time_limit_s=0.3))
    assert plan.total_time_s <= 0.3 + 0.15


def test_the_gap_is_on_energy_cost():
    plan = make_plan(INPUT, PlannerSettings())
    assert plan.gap is not None and plan.gap >= 0.0
    assert plan.cost_eur > 0.0


def test_each_milp_is_given_less_than_the_time_left(monkeypatch: pytest.MonkeyPatch):
    """HiGHS ends a MILP past its time limit (up to 66 ms of 1.9 s measured), so each MILP
    of a plan, the guided ones and the full one, is asked to stop MILP_OVERRUN_SHARE
    before the deadline."""
    from time import perf_counter

    from smartload.planner import solve as solve_module
    from smartload.planner.lp import FrozenProgram
    from smartload.planner.model import build_model

    shares: list[float] = []
    deadline = perf_counter() + 30.0
    real = FrozenProgram.solve

    def recorded(self: FrozenProgram, time_limit_s: float, *args: object, **kwargs: object):
        if not kwargs.get("relax", False):
            shares.append(time_limit_s / (deadline - perf_counter()))
        return real(self, time_limit_s, *args, **kwargs)

    monkeypatch.setattr(FrozenProgram, "solve", recorded)
    # HiGHS's limits are the subject: not branch.py's search, which would answer alone here.
    monkeypatch.setattr(solve_module, "BRANCH_MAX_FREE", -1)
    cars = [car(name, need_kwh=need, departure_h=4.0, wallbox=None, allowed_wallboxes=(1,))
            for name, need in (("A", 3.0), ("B", 5.0), ("C", 4.0))]
    for guided in (True, False):
        model = build_model(problem(hourly([0.1, 0.2, 0.3, 0.3]), cars), PlannerSettings(lp_guided=guided))
        shares.clear()
        solve_module.solve_model(model, deadline)
        assert shares, "no MILP ran"
        assert all(1.0 - solve_module.MILP_OVERRUN_SHARE <= s < 1.0 - solve_module.MILP_OVERRUN_SHARE + 1e-3
                   for s in shares), shares
