"""The relaxation's neighbourhood (planner/neighbourhood.py): which on/off decisions it leaves open."""

from __future__ import annotations

import numpy as np

from smartload.planner import PlannerSettings, WallboxInput
from smartload.planner.lp import Relaxation
from smartload.planner.model import build_model
from smartload.planner.neighbourhood import TRICKLES_OFF_ABOVE_BINARIES, neighbourhood
from tests.planner.builders import car, hourly, problem

# 5 cars, each at its own wallbox, over 100 one-hour slots: 500 on/off binaries, more than
# TRICKLES_OFF_ABOVE_BINARIES.
CARS = [car(name, need_kwh=20.0, departure_h=100.0, wallbox=w, allowed_wallboxes=(w,))
        for w, name in enumerate("ABCDE", start=1)]
BOXES = [WallboxInput(id=w) for w in range(1, 6)]


def test_with_own_wallboxes_a_trickle_under_half_the_minimum_stays_open() -> None:
    # The relaxation gives car A 1 kWh in hour 10, under half its 4.14 kWh minimum. Where
    # cars share a wallbox such a trickle is switched off (time-sharing is what makes those
    # MILPs slow); at its own wallbox it may be the plan's best use of a PV surplus (the
    # surplus rows make the relaxation pay for it as it would; 10 cars: off, one plan in
    # ten was 0.57 % above the optimum and ran a MILP).
    model = build_model(problem(hourly([0.30] * 100), CARS, boxes=BOXES), PlannerSettings())
    assert int(model.program.integrality.sum()) > TRICKLES_OFF_ABOVE_BINARIES
    pair = model.pairs[0]
    assert pair.on is not None and pair.occupancy is None
    x = model.program.lb.copy()
    x[pair.energy[10]] = 1.0
    x[pair.on[10]] = 1.0 / 11.04
    relaxed = Relaxation(x, 0.0, np.zeros_like(x), 0)
    _, ub, _ = neighbourhood(model, relaxed, turns=True)
    assert ub[pair.on[10]] == 1.0
    assert ub[pair.energy[10]] == 11.04
