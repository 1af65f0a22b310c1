"""Fault injection: real evcc bodies with absurd values never break the parser, never
reach a SiteState out of range, and a replay whose polls turn absurd still plans.

The bodies are every state fixture of tests/data/evcc with some leaves replaced
(tests/evcc_mutations.py: huge and negative numbers, 1e308, NaN, "NaN", wrong types,
nesting 600 deep, a 5,000-digit integer, times in year 1 and 9999). Hypothesis runs the
profile SMARTLOAD_HYPOTHESIS_PROFILE names: "ci" (derandomized) unless told "long".
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loguru import logger

from smartload.domain import SiteState
from smartload.evcc.ranges import violations
from smartload.evcc.repair import loads
from smartload.evcc.state import StateParser
from smartload.recording.replay import open_recording, replay_with_settings
from smartload.settings import Settings
from tests.evcc_mutations import Mutator, hypothesis_profile

AT = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
MUTATOR = Mutator()
FRESH_COUNTS = {name: len(StateParser().parse_state(json.dumps(base), AT).loadpoints)  # type: ignore[union-attr]
                for name, base in MUTATOR.bases.items()}
SHARED = StateParser()  # its memo carries over between examples, as in a long replay


def mutated(data: st.DataObject) -> tuple[str, bytes, list[Any]]:
    return MUTATOR.body(lambda options: data.draw(st.sampled_from(list(options))))


@hypothesis_profile()
@given(st.data())
def test_absurd_values_keep_the_state_and_never_pass_out_of_range(data: st.DataObject) -> None:
    name, body, changes = mutated(data)
    state = StateParser().parse_state(body, AT)
    # A leaf is never the whole state: the poll is kept, with every loadpoint.
    assert isinstance(state, SiteState), (name, changes, state)
    assert len(state.loadpoints) == FRESH_COUNTS[name]
    assert violations(state) == [], (name, changes)
    # Every way into the parser agrees: a shared memo, a decoded body, a recording line.
    assert SHARED.parse_state(body, AT) == state
    decoded, problem = loads(body)
    assert problem is None
    assert StateParser().parse_state(decoded, AT) == state
    line = b'{"t":"2026-12-03T10:30:00Z","state":' + body + b"}"
    assert StateParser().parse_recording_line(line) == (AT, state)


@hypothesis_profile()
@given(st.data())
def test_each_problem_names_a_field_that_was_changed(data: st.DataObject) -> None:
    name, body, changes = mutated(data)
    state = SHARED.parse_state(body, AT)
    assert isinstance(state, SiteState)
    changed = {_jq(path) for path, _ in changes}
    for problem in state.problems:
        # Paths name the leaf, or the object whose sum or pairing was impossible.
        assert any(problem.path.startswith(c.split("[]")[0]) or c.startswith(_base(problem.path))
                   for c in changed), (name, changes, problem)


def _jq(path: tuple[Any, ...]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text.removeprefix("result.")


def _base(path: str) -> str:
    return path.split("[]")[0].split(" ")[0]


RECORDING = Path(__file__).parent / "recordings" / "evening_two_cars.jsonl.gz"
DAMAGED_FROM = "2025-09-08T17:00:05Z"  # every poll from then on carries the values below


def damaged(state: dict[str, Any]) -> dict[str, Any]:
    """The values issue 16 saw break planning (or end a request), all at once."""
    for lp in state["loadpoints"]:
        lp.update(maxCurrent=-16, minCurrent=1e308, phasesActive=7, phasesConfigured=9, limitSoc=250,
                  effectiveLimitSoc=-1)
        if lp["vehicleName"] == "vehicle_2":
            lp["vehicleSoc"] = 140  # taken as a SoC, it ends vehicle_2's request as "target reached"
    state.update(homePower=1e308, tariffGrid=-1e30, bufferSoc=150, batteryCapacity=-10, batterySoc=-5)
    state["battery"][0].update(capacity=-10, soc=500)
    for vehicle in state["vehicles"].values():
        vehicle["capacity"] = -44
    state["forecast"]["grid"][3]["value"] = 1e308
    state["forecast"]["solar"]["timeseries"].append({"ts": "9999-12-31T23:30:00Z", "val": 5000})
    return state


def replayed(path: Path) -> tuple[dict[str, Any], list[str], list[str]]:
    """The report, the planner's word on each snapshot in order, and every error logged."""
    said: list[str] = []
    errors: list[str] = []

    def hear(message: Any) -> None:
        text = message.record["message"]
        if message.record["level"].no >= 40:
            errors.append(text)
        elif text.startswith(("decision ", "plan ", "no plan at ")):
            said.append(text.split(" (")[0] if text.startswith("decision ") else text.split(" in ")[0])

    sink = logger.add(hear, level="INFO")
    try:
        report = replay_with_settings(open_recording(path), Settings(), explicit_settings=False)
    finally:
        logger.remove(sink)
    return report, said, errors


def test_a_replay_whose_polls_turn_absurd_still_plans_at_every_tick(tmp_path: Path) -> None:
    with gzip.open(RECORDING, "rt", encoding="utf-8") as source:
        header, *rows = [json.loads(line) for line in source]
    damaged_polls = 0
    for row in rows:
        if row["t"] >= DAMAGED_FROM and "state" in row:
            row["state"] = damaged(row["state"])
            damaged_polls += 1
    assert damaged_polls == 1438
    path = tmp_path / "absurd.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in [header, *rows]) + "\n", encoding="utf-8")

    report, said, errors = replayed(path)
    assert errors == []
    # The recording's own failed polls, no more: the damaged ones all parsed.
    assert [(e["at"], e["kind"]) for e in report["errors"]][-2:] == [
        ("2025-09-08T17:02:05Z", "http"), ("2025-09-08T17:30:05Z", "parse")]
    ticks = [t["at"] for t in report["ticks"] if t["reason"] == "tick"]
    assert ticks == [f"2025-09-08T{h:02d}:{m:02d}:00Z" for h in range(15, 21) for m in (0, 15, 30, 45)][1:]
    # Each snapshot was planned: the decision log's line is followed by a plan.
    decisions = [i for i, text in enumerate(said) if text.startswith("decision ")]
    assert len(decisions) == len(report["ticks"])
    assert all(said[i + 1].startswith("plan ") for i in decisions)
    # evcc's 140 % for vehicle_2 never reached the planner as a SoC.
    assert [e for e in report["requests_ended"] if e["at"] >= DAMAGED_FROM] == []


@pytest.mark.parametrize("name", sorted(MUTATOR.bases))
def test_every_fixture_is_sane_as_it_is(name: str) -> None:
    state = StateParser().parse_state(json.dumps(MUTATOR.bases[name]), AT)
    assert isinstance(state, SiteState)
    assert (state.problems, violations(state)) == ((), [])
