"""Parser robustness (issue 16 §6, §7): junk no JSON reader holds costs that value, not the
poll, and one shared parser always gives what a fresh one gives."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from smartload.domain import SiteState, ValueProblem
from smartload.evcc.repair import MAX_DEPTH, bounded_copy, loads, prune_bytes
from smartload.evcc.state import StateParser
from tests.fixtures_evcc import AT, STATE_0315, compact, demo_state, load, recording_line

BASE = StateParser().parse_state(compact(demo_state()), AT)


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def with_junk(key: str, junk: bytes) -> bytes:
    """The demo body with `junk` at a top-level key, written into the bytes."""
    return compact(demo_state())[:-1] + b',"' + key.encode() + b'":' + junk + b"}"


def kept(body: bytes) -> SiteState:
    state = StateParser().parse_state(body, AT)
    assert isinstance(state, SiteState), state
    return state


@pytest.mark.parametrize("levels", [201, 500, 1200, 5000])
def test_deep_junk_under_an_unknown_key_keeps_the_state(levels: int) -> None:
    assert kept(with_junk("junk", deep(levels))) == BASE
    _, line_state = StateParser().parse_recording_line(b'{"t":"2025-09-08T10:00:00Z","state":'
                                                       + with_junk("junk", deep(levels)) + b"}")
    assert line_state == BASE


@pytest.mark.parametrize("levels", [500, 5000])
def test_deep_junk_where_a_value_is_read_costs_that_value(levels: int) -> None:
    state = kept(with_junk("homePower", deep(levels)))
    assert state == kept(with_junk("homePower", b"null"))
    assert state.home_power_w is None and state.loadpoints == BASE.loadpoints
    body = compact(demo_state()).replace(b'"forecast":{', b'"forecast":{"feedin":' + deep(levels) + b",")
    assert kept(body) == BASE


def test_deep_junk_in_a_decoded_body_that_needs_repairs() -> None:
    raw = demo_state()
    raw["homePower"] = "lots"  # a repair copies the body: the copy must survive the junk
    raw["junk"] = json.loads(deep(900))
    raw["loadpoints"][0]["title"] = json.loads(deep(900))
    state = StateParser().parse_state(raw, AT)
    assert isinstance(state, SiteState)
    assert (state.home_power_w, state.loadpoints[0].title, state.loadpoints[1]) == (None, "", BASE.loadpoints[1])
    assert raw["homePower"] == "lots"  # the caller's value is untouched


@pytest.mark.parametrize("digits", [4301, 5000, 100_000])
def test_a_huge_integer_costs_that_value(digits: int) -> None:
    huge = b"7" * digits
    assert kept(with_junk("junk", huge)) == BASE
    assert kept(with_junk("homePower", huge)) == kept(with_junk("homePower", b"null"))
    raw = demo_state()
    raw["forecast"]["solar"]["timeseries"][4]["val"] = "HUGE"
    solar = kept(compact(raw).replace(b'"HUGE"', huge)).forecast.solar
    assert len(solar) == len(BASE.forecast.solar) - 1


def test_a_recording_line_with_a_huge_integer_in_its_error() -> None:
    line = b'{"t":"2025-09-08T10:00:00Z","error":' + b"9" * 5000 + b',"kind":"http"}'
    at, poll = StateParser().parse_recording_line(line)
    assert at == AT and poll.kind == "parse"  # type: ignore[union-attr]
    assert poll.message == 'recording line: neither "state" nor "error"'  # type: ignore[union-attr]


def test_prune_bytes_replaces_only_what_no_reader_holds() -> None:
    assert prune_bytes(b'{"a": [1, 2], "b": "[[[["}') is None
    nested = b"[" * (MAX_DEPTH - 1) + b"1" + b"]" * (MAX_DEPTH - 1)
    assert prune_bytes(b'{"a": ' + nested + b"}") is None  # MAX_DEPTH levels with the body: kept
    # One level more: the innermost container is the one too deep.
    pruned = b"[" * (MAX_DEPTH - 1) + b"null" + b"]" * (MAX_DEPTH - 1)
    assert prune_bytes(b'{"a": [' + nested + b"]}") == b'{"a": ' + pruned + b"}"
    long_number = b'{"a": "x\\"]]", "b": ' + b"1" * 401 + b', "c": 1e5}'
    assert prune_bytes(long_number) == b'{"a": "x\\"]]", "b": null, "c": 1e5}'
    assert prune_bytes(b'{"a": ' + b"-1" * 300 + b"}") == b'{"a": null}'


def test_bounded_copy_prunes_as_prune_bytes_does() -> None:
    value = {"a": json.loads(deep(300)), "b": [1, {"c": 10**5000}], "d": (1, 2)}
    pruned = json.loads(b"[" * (MAX_DEPTH - 1) + b"null" + b"]" * (MAX_DEPTH - 1))  # the body is level 1
    assert bounded_copy(value) == {"a": pruned, "b": [1, {"c": None}], "d": [1, 2]}
    body = compact({**value, "b": [1, {"c": "HUGE"}]}).replace(b'"HUGE"', b"1" * 5000)
    assert loads(body) == (bounded_copy(value), None)


SOLAR_TIMES = [1757282400 + 3600 * i for i in range(4)]


def solar_body(values: list[Any]) -> dict[str, Any]:
    raw = load(STATE_0315)
    raw["forecast"]["solar"] = {"timeseries": [[t, v] for t, v in zip(SOLAR_TIMES, values, strict=True)]}
    return raw


@pytest.mark.parametrize(
    ("first", "second"),
    [(False, 0.0), (0.0, False), (True, 1), (1, True), (True, 1.0), (1, 1.0), (0, False), ([1], [True])],
)
def test_one_shared_parser_gives_what_a_fresh_one_gives(first: Any, second: Any) -> None:
    """Python's `False == 0.0` must not make the memo reuse rates made from the other."""
    shared = StateParser()
    for value in (first, second, first, second):
        for body in (compact(solar_body([value, 5.0, 6.0, 7.0])), compact(solar_body([5.0, value, 6.0, 7.0]))):
            assert shared.parse_state(body, AT) == StateParser().parse_state(body, AT)
        raw = load(STATE_0315)
        raw["forecast"]["grid"][0][2] = value
        assert shared.parse_state(copy.deepcopy(raw), AT) == StateParser().parse_state(raw, AT)
        line = recording_line(raw)
        assert shared.parse_recording_line(line) == StateParser().parse_recording_line(line)


def test_a_boolean_is_no_solar_power() -> None:
    assert len(kept(compact(solar_body([False, 5.0, 6.0, 7.0]))).forecast.solar) == 3
    assert len(kept(compact(solar_body([0.0, 5.0, 6.0, 7.0]))).forecast.solar) == 4


def test_the_real_0313_solar_forecast_with_false_then_zero() -> None:
    """The case issue 16 found: 203 solar rates after `false`, 204 after `0.0`."""
    raw = load("api-state_0.313_demo.json")
    points = raw["forecast"]["solar"]["timeseries"]
    shared, counts = StateParser(), []
    for value in (False, 0.0, False, 0.0):
        points[0][1] = value
        state = shared.parse_state(compact(raw), AT)
        assert state == StateParser().parse_state(compact(raw), AT)
        counts.append(len(state.forecast.solar))  # type: ignore[union-attr]
    assert counts == [len(points) - 1, len(points), len(points) - 1, len(points)]


def test_a_problem_in_a_remembered_forecast_is_listed_at_every_poll() -> None:
    raw = demo_state()
    raw["forecast"]["grid"][2]["value"] = -1e6
    shared = StateParser()
    for home in range(4):  # the third poll skips the forecast's bytes
        raw["homePower"] = home
        state = shared.parse_state(compact(raw), AT)
        assert state.problems == (ValueProblem("forecast.grid[2].value", "-1000000"),)  # type: ignore[union-attr]
    assert shared._forecast._last.region is not None
