"""What a plan's status says, for each way the planner can end (planner/solve.py), with
the gap turned back into EUR: gap x max(|energy cost|, GAP_FLOOR_EUR)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from smartload.plan_status import gap_eur, status_text
from tests.web.builders import plan

LIMIT_S = 2.0


@pytest.mark.parametrize(("status", "gap", "total_s", "cost", "text"), [
    ("optimal", 0.0, 0.05, 1.9625, "optimal, within 0.00 EUR of the best bound"),
    ("optimal", 0.004, 0.05, 10.0, "optimal, within 0.04 EUR of the best bound"),
    ("feasible", 0.05, 1.95, 1.9625, "feasible: stopped at the time limit (2 s), within 0.10 EUR of the best bound"),
    ("feasible", 0.05, 0.40, 1.9625, "feasible: the search could not prove it closer, within 0.10 EUR of the best "
                                     "bound"),
    # A plan that costs next to nothing (PV) is measured against GAP_FLOOR_EUR (0.1 EUR).
    ("feasible", 0.5, 1.99, 0.02, "feasible: stopped at the time limit (2 s), within 0.05 EUR of the best bound"),
    ("feasible", None, 0.30, 1.9625, "feasible: many cars share the wallboxes, so they are planned in order of "
                                     "arrival; no bound to compare with"),
    ("fallback", 0.25, 1.98, 4.0, "fallback: no exact answer within the time limit (2 s), so the cars charge as "
                                  "the repaired estimate or in order of arrival, within 1.00 EUR of the best bound"),
    ("fallback", 0.25, 0.10, 4.0, "fallback: no exact answer, so the cars charge as the repaired estimate or in "
                                  "order of arrival, within 1.00 EUR of the best bound"),
    ("fallback", None, 0.10, 4.0, "fallback: the solver gave no answer, so the cars charge in order of arrival or "
                                  "as the first estimate says; no bound to compare with"),
    ("empty", None, 0.0, 0.0, "empty: no price covers the coming quarter-hour, so there is nothing to plan"),
])
def test_the_status_says_why_and_how_far_from_the_best_bound(status, gap, total_s, cost, text):
    made = replace(plan(), status=status, gap=gap, total_time_s=total_s, cost_eur=cost)
    assert status_text(made, LIMIT_S) == text


def test_the_gap_in_eur():
    assert gap_eur(replace(plan(), gap=0.05, cost_eur=-3.0)) == pytest.approx(0.15)  # a plan that earns
    assert gap_eur(replace(plan(), gap=None)) is None
