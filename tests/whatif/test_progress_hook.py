"""simulate's progress hook: the share of the period done and the simulated local time."""

from __future__ import annotations

from datetime import date, datetime

from smartload.settings import Settings
from smartload.whatif.runner import simulate
from tests.whatif.conftest import BERLIN, config


def test_a_run_reports_its_progress_from_start_to_end_in_local_time() -> None:
    heard: list[tuple[float, datetime]] = []
    simulate(config(scenario="household", start=date(2024, 7, 15), days=1, step_s=60.0),
             Settings(), progress=lambda done, at: heard.append((done, at)))
    assert heard[0] == (0.0, datetime(2024, 7, 15, tzinfo=BERLIN))
    assert heard[-1] == (1.0, datetime(2024, 7, 16, tzinfo=BERLIN))
    assert heard[-1][1].utcoffset() == BERLIN.utcoffset(heard[-1][1])
    shares = [done for done, _ in heard]
    assert shares == sorted(shares)
    # At most one call per thousandth of the period (and the last step), not one per step.
    assert 500 <= len(heard) <= 1002


def test_the_optimum_is_one_solve_from_none_done_to_all() -> None:
    heard: list[tuple[float, datetime]] = []
    simulate(config(strategy="optimal", scenario="household", start=date(2024, 7, 15), days=1,
                    optimal_time_limit_s=30.0), Settings(), progress=lambda done, at: heard.append((done, at)))
    assert heard == [(0.0, datetime(2024, 7, 15, tzinfo=BERLIN)), (1.0, datetime(2024, 7, 16, tzinfo=BERLIN))]
