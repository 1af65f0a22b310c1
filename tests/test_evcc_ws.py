"""Folding evcc websocket frames into the /api/state layout."""

from __future__ import annotations

import copy
import json

import pytest

from smartload.evcc.repair import MAX_DEPTH
from smartload.evcc.ws import MAX_LOADPOINTS, apply_frame, fold_frames, has_flat_keys, may_have_flat_keys, parse_frame
from tests.fixtures_evcc import WS_FORECAST_GRID, WS_WELCOME, body, load


def test_welcome_and_shard_fold_into_the_rest_layout() -> None:
    state = fold_frames([body(WS_WELCOME), body(WS_FORECAST_GRID)])
    assert not has_flat_keys(state)
    assert [lp["title"] for lp in state["loadpoints"]] == ["Garage Linke Wand", "Garage Rechte Wand", "Pool Pumpe"]
    assert state["loadpoints"][0]["vehicleSoc"] == 56
    assert len(state["loadpoints"][0]) == 96  # every loadpoints.0.* key of the welcome frame
    assert state["loadpoints"][2] == {
        "chargerFeatureIntegratedDevice": True, "chargerIcon": "pump", "chargerSinglePhase": True,
        "connected": True, "effectiveMaxCurrent": 2, "effectiveMinCurrent": 1, "mode": "pv", "name": "db:103",
        "suggestion": None, "title": "Pool Pumpe", "vehicleName": "", "vehicleTitle": "",
    }  # fmt: skip
    assert state["forecast"] == {"grid": load(WS_FORECAST_GRID)["forecast.grid"]}
    assert state["grid"]["power"] == 737.5999755859375


def test_updates_set_single_keys_and_grow_the_loadpoint_list() -> None:
    state = fold_frames([{"homePower": 1, "loadpoints.1.connected": True}])
    assert state == {"homePower": 1, "loadpoints": [{}, {"connected": True}]}
    apply_frame(state, {"loadpoints.0.mode": "now", "homePower": 2, "forecast.solar": {"timeseries": []}})
    assert state == {"homePower": 2, "loadpoints": [{"mode": "now"}, {"connected": True}],
                     "forecast": {"solar": {"timeseries": []}}}  # fmt: skip


def test_keys_that_cannot_be_placed_are_dropped() -> None:
    frame = {f"loadpoints.{MAX_LOADPOINTS}.mode": "pv", "loadpoints.x.mode": "pv", "loadpoints.0": 1,
             "loadpoints.-1.mode": "pv", ".x": 1, "y.": 2}  # fmt: skip
    assert fold_frames([frame]) == {}


def test_the_callers_frames_are_not_changed() -> None:
    welcome = {"loadpoints": [{"mode": "pv"}], "forecast": {"grid": []}}
    before = copy.deepcopy(welcome)
    state = fold_frames([welcome, {"loadpoints.0.mode": "now", "forecast.grid": [[1, 2, 3]]}])
    assert welcome == before
    assert state == {"loadpoints": [{"mode": "now"}], "forecast": {"grid": [[1, 2, 3]]}}


def test_frames_that_are_not_objects() -> None:
    with pytest.raises(ValueError, match="websocket frame is not JSON: Expecting value"):
        parse_frame(b"nope")
    with pytest.raises(ValueError, match="websocket frame is a JSON list, not an object"):
        fold_frames([b"[1]"])


def test_a_frame_with_junk_no_reader_holds_keeps_the_rest() -> None:
    frame = b'{"homePower": 5, "junk": ' + b"[" * 3000 + b"]" * 3000 + b', "big": ' + b"7" * 5000 + b"}"
    pruned = json.loads(b"[" * (MAX_DEPTH - 1) + b"null" + b"]" * (MAX_DEPTH - 1))  # the frame is level 1
    assert fold_frames([frame]) == {"homePower": 5, "junk": pruned, "big": None}


def test_cheap_pre_check() -> None:
    assert may_have_flat_keys(body(WS_WELCOME)) and may_have_flat_keys(body(WS_FORECAST_GRID).decode())
    assert not may_have_flat_keys(b'{"loadpoints": [], "forecast": {}}')
