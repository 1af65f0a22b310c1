"""Real evcc bodies with absurd values in place of some of their leaves: the fault
injection of tests/test_fault_injection_parser.py and benchmarks/fuzz_parser.py.

It imports nothing from smartload, so the benchmark can feed the same bodies to an
older parser. `pick` chooses among options: hypothesis' `data.draw(sampled_from(...))`
in the tests, a seeded `random.Random.choice` in the benchmark.

Hypothesis profiles (select with SMARTLOAD_HYPOTHESIS_PROFILE): "ci", the default,
derandomized so every run tries the same examples; "long", random and 50 times as many,
for a hunt before a release.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
Pick = Callable[[Sequence[Any]], Any]

DATA = Path(__file__).with_name("data") / "evcc"
# Every state body of tests/data/evcc (a tariff body or a forecast shard alone is no state).
STATE_FIXTURES = tuple(sorted(p.name for p in DATA.glob("*.json") if p.name.startswith(("api-state", "ws-welcome"))))

_DEEP, _HUGE = "\x00deep\x00", "\x00huge\x00"  # stand-ins replaced in the encoded body
DEEP_LEVELS = 600  # beyond pydantic's JSON reader (200), under json.loads' limit
HUGE_DIGITS = 5000  # beyond Python's 4,300-digit limit for integers
ABSURD: tuple[Any, ...] = (
    # far out of range
    1e308, -1e308, 1e30, -1e30, 10**30, -(10**30), 2**63, 1e7 + 1, -1e7 - 1,
    # just out of range, or impossible where they land
    -1, -5, -16, -10, -0.001, 100.5, 101, 140, 250, 7, 1000.5, 4, 0, 0.0,
    # not numbers
    float("nan"), float("inf"), "NaN", "nan", "Infinity", "-Infinity", "", "1e999", "16", "-16",
    True, False, None, [], {}, [1, 2], {"value": 1}, [[1, 2, 3]],
    # times far from any poll, as text and as unix seconds
    "9999-12-31T23:59:59Z", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00Z", "1900-01-01T00:00:00Z",
    "2999-01-01T00:00:00Z", "2031-06-01T00:00:00Z", 253402300799, 253402297800, -1, 4102444800, 1e12,
    # no reader holds these
    _DEEP, _HUGE,
)  # fmt: skip


def load(name: str) -> Any:
    return json.loads((DATA / name).read_bytes())


def leaf_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every scalar in a decoded body (an empty list or object counts)."""
    if isinstance(value, dict) and value:
        return [path for key, item in value.items() for path in leaf_paths(item, (*prefix, key))]
    if isinstance(value, list) and value:
        return [path for index, item in enumerate(value) for path in leaf_paths(item, (*prefix, index))]
    return [prefix] if prefix else []


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """`value` with the leaf at `path` replaced, copying only the containers on the way."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copied = list(value)
    copied[head] = replaced(value[head], rest, new)
    return copied


def encode(value: Any) -> bytes:
    """Compact JSON, with the stand-ins for deep nesting and huge integers put in."""
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    deep = b"[" * DEEP_LEVELS + b"]" * DEEP_LEVELS
    huge = b"7" * HUGE_DIGITS
    return body.replace(json.dumps(_DEEP).encode(), deep).replace(json.dumps(_HUGE).encode(), huge)


class Mutator:
    """Mutated bodies of the state fixtures; the decoded bodies and their leaves are read once."""

    def __init__(self, names: Sequence[str] = STATE_FIXTURES) -> None:
        self.bases = {name: load(name) for name in names}
        self.leaves = {name: leaf_paths(base) for name, base in self.bases.items()}

    def body(self, pick: Pick, max_changes: int = 8) -> tuple[str, bytes, list[tuple[tuple[Any, ...], Any]]]:
        """A fixture's name, its body with 1..max_changes leaves made absurd, and the changes."""
        name = pick(sorted(self.bases))
        value, changes = self.bases[name], []
        for _ in range(pick(range(1, max_changes + 1))):
            path, new = pick(self.leaves[name]), pick(ABSURD)
            value = replaced(value, path, new)
            changes.append((path, new))
        return name, encode(value), changes


def hypothesis_profile() -> Any:
    """The settings of the profile SMARTLOAD_HYPOTHESIS_PROFILE names ("ci" unless set)."""
    from hypothesis import HealthCheck, settings

    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large]
    settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=quiet)
    settings.register_profile("long", max_examples=3000, deadline=None, derandomize=False, suppress_health_check=quiet)
    return settings.get_profile(os.environ.get("SMARTLOAD_HYPOTHESIS_PROFILE", "ci"))
