"""API fuzzing at length: the systematic table of tests/web/api_fuzz.py, then many random
inputs from its hypothesis strategy, against the real web server on loopback. Prints the
inputs tried, the 5xx answers (target 0) and the refused inputs that changed state (target
0), with the spread of status codes; exits 1 if either target is missed.

The test suite runs the same table and 300 derandomized random inputs; this runs as many
as asked, with a seed of its choosing (a different one finds different inputs).

Run: python benchmarks/fuzz_api.py [--examples 5000] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from loguru import logger

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.web.api_fuzz

from tests.web.api_fuzz import Probe, ServedInThread, Tally, probes, table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=5000, help="random inputs after the table (5000)")
    parser.add_argument("--seed", type=int, default=1, help="hypothesis seed (1)")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")

    tally = Tally()
    with tempfile.TemporaryDirectory() as data_dir, ServedInThread(Path(data_dir)) as served:
        started = time.perf_counter()
        for probe in table():
            served.check(probe, tally)
        systematic, table_s = tally.tried, time.perf_counter() - started

        @seed(args.seed)
        @settings(database=None, deadline=None, max_examples=args.examples, suppress_health_check=list(HealthCheck))
        @given(probes())
        def random_inputs(probe: Probe) -> None:
            served.check(probe, tally)  # tallied, not raised: the run goes on past a failure

        random_inputs()
        total_s = time.perf_counter() - started

    print(f"table:  {systematic} inputs in {table_s:.1f} s")
    print(f"random: {tally.tried - systematic} inputs (seed {args.seed}) in {total_s - table_s:.1f} s")
    print(tally.summary())
    for failure in (tally.server_errors + tally.changed)[:10]:
        print(f"  {failure}")
    return 1 if tally.server_errors or tally.changed else 0


if __name__ == "__main__":
    sys.exit(main())
