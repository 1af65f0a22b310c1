"""Every route of the API against bad input (tests/web/api_fuzz.py): no 5xx, and nothing
changes from a refused request. The table runs in full, then hypothesis (derandomized:
the same inputs every run) mixes the ingredients; SMARTLOAD_FUZZ_PROFILE=api-fuzz-long
runs more of them. Figures: printed (pytest -s) and recorded as test properties."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from tests.web.api_fuzz import Probe, ServedInThread, Tally, probes, table
from tests.web.builders import TOKEN

settings.register_profile("api-fuzz", derandomize=True, database=None, deadline=None, max_examples=300,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("api-fuzz-long", settings.get_profile("api-fuzz"), max_examples=5000)
PROFILE = settings.get_profile(os.environ.get("SMARTLOAD_FUZZ_PROFILE", "api-fuzz"))


def test_no_input_gets_a_5xx_or_changes_state_when_refused(tmp_path, record_property):
    tally = Tally()
    with ServedInThread(tmp_path) as served:
        # The state check sees a change: an accepted request moves it.
        before = served.state()
        accepted = Probe("POST", "/api/requests", auth=f"Bearer {TOKEN}",
                         body=b'{"vehicle": "ioniq", "departure": "06:30", "target_soc_pct": 70}')
        assert served.send(accepted) == 201
        assert served.state()[0] != before[0] and served.state()[2] == before[2] + 1
        failures = [f for f in (served.check(p, tally) for p in table()) if f is not None]
        assert failures == []
        systematic = tally.tried

        @settings(PROFILE)
        @given(probes())
        def random_inputs(probe: Probe) -> None:
            assert served.check(probe, tally) is None

        random_inputs()
    print(f"\n{tally.summary()}")
    record_property("api_fuzz_inputs", tally.tried)
    record_property("api_fuzz_5xx", len(tally.server_errors))
    assert (tally.server_errors, tally.changed) == ([], [])
    assert systematic > 1000 and tally.tried >= systematic + PROFILE.max_examples
    # The inputs reach past the token and the parser: refusals of each kind, and some accepted.
    assert {400, 401, 404, 405, 413, 421, 422} <= set(tally.statuses)
    assert tally.statuses[200] + tally.statuses[201] + tally.statuses[202] > 0
