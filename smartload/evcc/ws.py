"""Folding evcc websocket frames into one `/api/state`-shaped dict.

evcc's `/ws` sends a welcome frame with every cached key, then sharded values
(`forecast.grid`, `forecast.solar`, ...) as frames of their own, then only changed keys.
Site keys are plain (`homePower`), loadpoint keys are flat `loadpoints.<0-based>.<key>`,
forecast shards are `forecast.<name>`. Folding them gives the nested layout of
`GET /api/state`, so one parser serves both. A frame is decoded as a poll's body is
(repair.loads): junk nested too deep or a number too long is pruned, not the frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from smartload.evcc.repair import json_kind, loads

# A frame naming a larger index is garbage, not a site with thousands of wallboxes.
MAX_LOADPOINTS = 64

_FLAT_MARKERS = ('"loadpoints.', '"forecast.')
_FLAT_MARKERS_B = tuple(marker.encode() for marker in _FLAT_MARKERS)


def has_flat_keys(frame: Mapping[Any, Any]) -> bool:
    """True if the frame uses the websocket's dotted keys."""
    return any(isinstance(key, str) and "." in key for key in frame)


def may_have_flat_keys(body: bytes | str) -> bool:
    """A cheap pre-check on unparsed JSON; false positives only cost a slower parse."""
    if isinstance(body, bytes):
        return any(marker in body for marker in _FLAT_MARKERS_B)
    return any(marker in body for marker in _FLAT_MARKERS)


def _owned(value: Any) -> Any:
    # Later frames write into loadpoint and forecast dicts; copy the caller's one level.
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list):
        return [dict(item) if isinstance(item, Mapping) else item for item in value]
    return value


def _loadpoint_slot(state: dict[str, Any], index: int) -> dict[str, Any]:
    loadpoints = state.get("loadpoints")
    if not isinstance(loadpoints, list):
        loadpoints = state["loadpoints"] = []
    while len(loadpoints) <= index:
        loadpoints.append({})
    slot = loadpoints[index]
    if not isinstance(slot, dict):
        slot = loadpoints[index] = {}
    return slot


def apply_frame(state: dict[str, Any], frame: Mapping[str, Any]) -> dict[str, Any]:
    """Apply one frame to `state` in place and return it.

    `loadpoints.<i>.<key>` sets a key of loadpoint i (the list grows as needed);
    `<group>.<name>` (e.g. `forecast.grid`) sets one entry of a nested dict; plain keys
    replace the value. Keys that cannot be placed are dropped.
    """
    for key, value in frame.items():
        if not isinstance(key, str):
            continue
        head, dot, rest = key.partition(".")
        if not dot:
            state[key] = _owned(value)
        elif head == "loadpoints":
            index_text, dot, field = rest.partition(".")
            if dot and field and index_text.isdigit() and int(index_text) < MAX_LOADPOINTS:
                _loadpoint_slot(state, int(index_text))[field] = value
        elif head and rest:
            group = state.get(head)
            if not isinstance(group, dict):
                group = state[head] = {}
            group[rest] = _owned(value)
    return state


def parse_frame(frame: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    """One frame as a mapping; raises ValueError if it is not a JSON object."""
    if isinstance(frame, Mapping):
        return frame
    value, problem = loads(frame.encode() if isinstance(frame, str) else frame)
    if problem is not None:
        raise ValueError(f"websocket frame is {problem}")
    if not isinstance(value, dict):
        raise ValueError(f"websocket frame is a JSON {json_kind(value)}, not an object")
    return value


def fold_frames(frames: Iterable[bytes | str | Mapping[str, Any]]) -> dict[str, Any]:
    """Fold frames (welcome first, then shards and updates) into one state dict.

    Raises ValueError for a frame that is not a JSON object. A forecast shard alone folds
    to `{"forecast": {...}}`, which parse_state rejects as not a usable state.
    """
    state: dict[str, Any] = {}
    for frame in frames:
        apply_frame(state, parse_frame(frame))
    return state
