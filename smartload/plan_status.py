"""What a plan's status means, in a sentence a person can act on.

The planner (planner/solve.py) reports a status and a gap on energy cost: the objective's
distance to a proven lower bound divided by the plan's energy cost, at least
GAP_FLOOR_EUR. Multiplied back, the gap is in EUR: the most any plan could still save.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smartload.planner import Plan

# A plan whose planning took this share of the time limit or more ran into it: the
# deadline covers build, solve and assembly, and the solver is handed what is left.
_AT_LIMIT = 0.9


def gap_eur(plan: Plan) -> float | None:
    """The gap in EUR, or None where the plan has no bound to compare with."""
    if plan.gap is None:
        return None
    # Imported here: a plan exists, so the planner (and numpy) are loaded already.
    from smartload.planner.solve import GAP_FLOOR_EUR

    return plan.gap * max(abs(plan.cost_eur), GAP_FLOOR_EUR)


def _within(plan: Plan) -> str:
    gap = gap_eur(plan)
    return "" if gap is None else f", within {gap:.2f} EUR of the best bound"


def status_text(plan: Plan, time_limit_s: float) -> str:
    """"optimal", "feasible: stopped at the time limit (2 s), within 0.12 EUR of the best
    bound", "fallback: ...": the status, and why where it is not optimal."""
    limit = f"{time_limit_s:g} s"
    hit_limit = plan.total_time_s >= _AT_LIMIT * time_limit_s
    if plan.status == "optimal":
        return "optimal" + _within(plan)
    if plan.status == "empty":
        return "empty: no price covers the coming quarter-hour, so there is nothing to plan"
    if plan.status == "feasible":
        if plan.gap is None:
            return ("feasible: many cars share the wallboxes, so they are planned in order of arrival; "
                    "no bound to compare with")
        if hit_limit:
            return f"feasible: stopped at the time limit ({limit}){_within(plan)}"
        return f"feasible: the search could not prove it closer{_within(plan)}"
    # fallback
    if plan.gap is None:
        return ("fallback: the solver gave no answer, so the cars charge in order of arrival "
                "or as the first estimate says; no bound to compare with")
    why = f"no exact answer within the time limit ({limit})" if hit_limit else "no exact answer"
    return f"fallback: {why}, so the cars charge as the repaired estimate or in order of arrival{_within(plan)}"
