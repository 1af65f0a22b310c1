"""Property tests: no input makes the evcc parser raise, and damage stays local.

Real states (0.207.5, the derived 0.206 and 0.315 layouts, the 0.315 websocket welcome) get random
deletions, nulls and wrong-typed values anywhere in their tree; every state that comes out
is within range (ranges.violations). Absurd values of the right type are the business of
test_fault_injection_parser.py. Hypothesis runs the profile of tests/evcc_mutations.py.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from smartload.domain import PollError, SiteState
from smartload.evcc.ranges import violations
from smartload.evcc.raw import SITE_KEYS, RawLoadpoint
from smartload.evcc.state import StateParser, parse_recording_line
from tests.evcc_mutations import hypothesis_profile
from tests.fixtures_evcc import AT, STATE_0206, STATE_0207, STATE_0315, WS_WELCOME, compact, load, recording_line

BASES = {name: load(name) for name in (STATE_0206, STATE_0207, STATE_0315, WS_WELCOME)}
WRONG: list[Any] = ["x", "", 1.5, -1, 0, True, [], {}, [1, "a", None], {"k": None}, 10**30, 10**400,
                    "2025-13-45T99:00:00Z", {"power": "w"}, [[1, 2, 3]]]  # fmt: skip
READ_LOADPOINT_KEYS = frozenset(RawLoadpoint.__annotations__)
SHARED = StateParser()  # its memo carries over between examples, as in a long replay
PROPERTY = settings(hypothesis_profile(), max_examples=max(200, hypothesis_profile().max_examples))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


PATHS = {name: paths(base) for name, base in BASES.items()}


def ignored(path: tuple[Any, ...]) -> bool:
    """A location the parser does not read, so damage there changes nothing."""
    head = path[0]
    if head == "loadpoints":
        return len(path) >= 3 and path[2] not in READ_LOADPOINT_KEYS
    if head == "forecast":
        return len(path) >= 2 and path[1] in ("co2", "planner")
    if isinstance(head, str) and head.startswith("loadpoints."):
        return head.rsplit(".", 1)[-1] not in READ_LOADPOINT_KEYS
    return head not in SITE_KEYS and head not in ("vehicles", "result")


def _has(parent: Any, step: Any) -> bool:
    if isinstance(parent, dict):
        return step in parent
    return isinstance(parent, list) and isinstance(step, int) and step < len(parent)


IGNORED = {name: [p for p in found if ignored(p)] for name, found in PATHS.items()}


def mutate(raw: Any, path: tuple[Any, ...], action: str, wrong: Any) -> None:
    parent = raw
    for step in path[:-1]:
        if not _has(parent, step):
            return  # an earlier mutation removed the way there
        parent = parent[step]
    last = path[-1]
    if not _has(parent, last):
        return
    if action == "delete":
        del parent[last]
    else:
        parent[last] = None if action == "null" else copy.deepcopy(wrong)


def damaged(data: st.DataObject, *, only_ignored: bool = False) -> tuple[str, Any]:
    name = data.draw(st.sampled_from(sorted(BASES)))
    candidates = IGNORED[name] if only_ignored else PATHS[name]
    if not candidates:
        name, candidates = STATE_0207, IGNORED[STATE_0207]
    raw = copy.deepcopy(BASES[name])
    for _ in range(data.draw(st.integers(1, 8))):
        path = data.draw(st.sampled_from(candidates))
        mutate(raw, path, data.draw(st.sampled_from(["delete", "null", "wrong"])), data.draw(st.sampled_from(WRONG)))
    return name, raw


def check_state(result: object, at: datetime) -> None:
    assert isinstance(result, SiteState | PollError)
    assert result.at == at
    if isinstance(result, SiteState):
        ids = [lp.id for lp in result.loadpoints]
        assert ids == sorted(set(ids)) and all(i >= 1 for i in ids)
        for rates in (result.forecast.grid, result.forecast.feedin, result.forecast.solar):
            assert all(r.end > r.start and r.start.utcoffset().total_seconds() == 0 for r in rates)  # type: ignore[union-attr]
        assert violations(result) == []


@PROPERTY
@given(st.data())
def test_damaged_states_never_raise_and_every_path_agrees(data: st.DataObject) -> None:
    _, raw = damaged(data)
    fresh = StateParser().parse_state(compact(raw), AT)
    check_state(fresh, AT)
    # The tolerant path (a mapping) and the fast path (bytes) agree, and so does a
    # parser whose memo was filled by earlier examples.
    assert StateParser().parse_state(copy.deepcopy(raw), AT) == fresh
    assert SHARED.parse_state(compact(raw), AT) == fresh
    at, from_line = parse_recording_line(recording_line(raw, "2025-09-08T10:00:00Z"))
    assert at == AT
    assert from_line == fresh


@PROPERTY
@given(st.data())
def test_damage_where_the_parser_does_not_read_changes_nothing(data: st.DataObject) -> None:
    name, raw = damaged(data, only_ignored=True)
    assert SHARED.parse_state(compact(raw), AT) == StateParser().parse_state(compact(BASES[name]), AT)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(["loadpoints", "grid", "battery", "forecast", "result", "vehicles", "homePower",
                        "loadpoints.0.mode", "forecast.solar", "t", "state", "error", "kind"])  # fmt: skip


@PROPERTY
@given(st.dictionaries(KEYS, JSON, max_size=6) | JSON)
def test_arbitrary_json_never_raises(value: Any) -> None:
    check_state(StateParser().parse_state(compact(value), AT), AT)
    if isinstance(value, dict):
        check_state(StateParser().parse_state(value, AT), AT)
    at, poll = parse_recording_line(compact(value))
    check_state(poll, at)


@PROPERTY
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    check_state(StateParser().parse_state(raw, AT), AT)
    at, poll = parse_recording_line(raw)
    check_state(poll, at)
