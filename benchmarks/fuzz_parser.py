"""Fuzzing the evcc parser: real bodies with absurd values, and what came of them.

Mutates the state fixtures of tests/data/evcc (tests/evcc_mutations.py: 1 to 8 leaves of
a body replaced by huge or negative numbers, 1e308, NaN, wrong types, nesting 600 deep,
a 5,000-digit integer, times in year 1 and 9999), seeded, parses each body with a fresh
parser and with one shared parser (as a long replay does), and counts:

  exceptions escaping      parse calls that raised, or that the parser's last guard
                           turned into "parser failed (...)": a bug either way (target 0)
  out of range             parsed states holding a value outside its range, and those
                           values, judged by smartload/evcc/ranges.py `violations`
                           (target 0); apart from them, a car's vehicleSoc 0 (evcc's "no
                           reading") passed on as a SoC
  polls rejected whole     bodies that gave no state (a PollError, escaping exceptions too)
  states kept              bodies that gave a state
  shared parser differs    bodies a shared parser read otherwise than a fresh one (target 0)
  problems listed          values dropped to unknown and listed on the state

The same bodies go through the parser as it was before range validation (the parent of
the commit that added smartload/evcc/validate.py, or --baseline REV), extracted with
`git archive` and run in a subprocess, since both are the package `smartload`. Without
git history it says so and prints this tree alone.

Run: python benchmarks/fuzz_parser.py --bodies 12000 [--seed 16] [--baseline REV|none]

Measured when it was written (12,000 bodies, seed 16, 2 cores, about a minute): this tree
0 exceptions, 0 values out of range, 0 polls rejected, 4,918 problems listed; the parser
before (b049768) 1,126 exceptions (each a poll rejected whole), 4,788 values out of range
in 3,564 states, 8,074 vehicleSoc 0 taken as a reading, and 3 bodies a shared parser
read otherwise than a fresh one.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
AT = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)  # within three years of every fixture's forecast
ROWS = [
    ("bodies", "bodies fuzzed"),
    ("exceptions", "exceptions escaping (target 0)"),
    ("out_of_range_states", "states out of range (target 0)"),
    ("out_of_range_values", "values out of range (target 0)"),
    ("soc_zero", "SoC 0 taken as a reading (target 0)"),
    ("rejected", "polls rejected whole"),
    ("kept", "states kept"),
    ("shared_differs", "shared parser differs (target 0)"),
    ("problems", "problems listed"),
    ("seconds", "seconds"),
]


def by_path(name: str, path: Path) -> ModuleType:
    """A module loaded from its file: these two import nothing from smartload, so they
    serve whichever parser is on the path."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def fuzz(bodies: int, seed: int) -> dict[str, float]:
    """Figures for the `smartload` on the path, over the bodies `seed` makes."""
    from smartload.domain import SiteState
    from smartload.evcc.state import StateParser

    mutations = by_path("evcc_mutations", ROOT / "tests" / "evcc_mutations.py")
    ranges = by_path("evcc_ranges", ROOT / "smartload" / "evcc" / "ranges.py")
    mutator, rng, shared = mutations.Mutator(), random.Random(seed), StateParser()
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    for _ in range(bodies):
        _, body, _ = mutator.body(rng.choice)
        results = []
        for parser in (StateParser(), shared):
            try:
                results.append(parser.parse_state(body, AT))
            except Exception:  # the parser promises never to raise
                results.append(None)
        fresh, again = results
        counts["bodies"] += 1
        counts["shared_differs"] += fresh != again
        if fresh is None or "parser failed" in getattr(fresh, "message", ""):
            counts["exceptions"] += 1
        if isinstance(fresh, SiteState):
            counts["kept"] += 1
            found = ranges.violations(fresh)
            zero = [line for line in found if "no reading" in line]
            counts["out_of_range_states"] += len(found) > len(zero)
            counts["out_of_range_values"] += len(found) - len(zero)
            counts["soc_zero"] += len(zero)
            counts["problems"] += len(getattr(fresh, "problems", ()))
        else:
            counts["rejected"] += 1
    return {**{key: counts[key] for key, _ in ROWS}, "seconds": round(time.perf_counter() - started, 1)}


def baseline_rev(asked: str | None) -> str | None:
    if asked is not None:
        return None if asked == "none" else asked
    try:
        added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", "smartload/evcc/validate.py"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{added[-1]}^" if added else None


def start_baseline(rev: str, bodies: int, seed: int, into: Path) -> subprocess.Popen[str]:
    """The same fuzzing, in a subprocess that imports the parser of `rev`."""
    archive = subprocess.run(["git", "archive", rev, "smartload"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(into), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, __file__, "--worker", "--bodies", str(bodies), "--seed", str(seed)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def short(rev: str) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return rev


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bodies", type=int, default=12000, help="mutated bodies to parse (default 12000)")
    parser.add_argument("--seed", type=int, default=16, help="seed of the mutations (default 16)")
    parser.add_argument("--baseline", help="git revision to compare with, or 'none' "
                                           "(default: the parser before range validation)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(fuzz(args.bodies, args.seed)))
        return
    rev = baseline_rev(args.baseline)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            worker = start_baseline(rev, args.bodies, args.seed, Path(scratch)) if rev else None
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"baseline {rev} not run: {exc}")
            worker = None
        ours = fuzz(args.bodies, args.seed)  # meanwhile, on the other core
        before = json.loads(worker.communicate()[0]) if worker is not None else None
    names = ", ".join(sorted(p.name for p in (ROOT / "tests" / "data" / "evcc").glob("api-state*.json")))
    print(f"{args.bodies} bodies, seed {args.seed}, mutated from {names} and the websocket welcome\n")
    header = f"{'':38}{'this tree':>12}"
    if before is not None:
        header += f"{'before (' + short(rev) + ')':>20}"  # type: ignore[arg-type]
    print(header)
    for key, label in ROWS:
        line = f"{label:38}{ours[key]:>12}"
        if before is not None:
            line += f"{before[key]:>20}"
        print(line)
    if before is None:
        print("\nno baseline: run in a git clone, or pass --baseline REV")


if __name__ == "__main__":
    main()
