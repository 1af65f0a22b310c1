"""Making damaged evcc JSON usable: decode it, prune what no reader can hold, and null
the fields validation rejected.

Some junk makes a JSON reader refuse the whole body, even when it sits under a key
smartload never reads: a value nested hundreds of levels deep (pydantic's reader stops
at 200 levels, `json.loads` and `copy.deepcopy` at Python's recursion limit) or a number
of thousands of digits (Python refuses to convert an integer of more than 4,300). No evcc
sends either: its deepest value is about six levels down, its longest number about 25
characters. `prune_bytes` replaces such values with null in a body, `bounded_copy` in a
decoded value, so one junk value costs that value, not the poll.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from smartload.jsonscan import structure

MAX_DEPTH = 64  # containers nested deeper than this (the body itself is level 1) are junk
MAX_NUMBER_CHARS = 400  # longer number literals are junk (10**400 is a float's end)
_MAX_INT_BITS = 1330  # about 400 decimal digits, the same limit for decoded integers

def prune_bytes(body: bytes) -> bytes | None:
    """`body` with each container nested deeper than MAX_DEPTH and each over-long number
    replaced by null; None when there was nothing to prune."""
    parts: list[bytes] = []
    last, depth, cut_from = 0, 0, -1
    for token, start, end in structure(body, MAX_NUMBER_CHARS + 1):
        if token == "open":
            depth += 1
            if depth == MAX_DEPTH + 1 and cut_from < 0:
                cut_from = start
        elif token == "close":
            if depth == MAX_DEPTH + 1 and cut_from >= 0:
                parts += [body[last:cut_from], b"null"]
                last, cut_from = end, -1
            depth -= 1
        elif cut_from < 0:  # an over-long number outside a pruned container
            parts += [body[last:start], b"null"]
            last = end
    if not parts:
        return None
    return b"".join([*parts, body[last:]])


def bounded_copy(value: Any) -> Any:
    """A copy of a decoded JSON value, its dicts and lists new (so repairs do not touch the
    caller's), with what prune_bytes would prune replaced by None. Iterative: the value
    may be nested deeper than Python's recursion limit."""
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(holder, 0, value, 1)]
    while stack:
        parent, key, item, level = stack.pop()
        if isinstance(item, Mapping | list | tuple) and level > MAX_DEPTH:
            parent[key] = None
        elif isinstance(item, Mapping):
            copied: dict[Any, Any] = dict.fromkeys(item)
            parent[key] = copied
            stack += [(copied, k, v, level + 1) for k, v in item.items()]
        elif isinstance(item, list | tuple):
            listed: list[Any] = [None] * len(item)
            parent[key] = listed
            stack += [(listed, i, v, level + 1) for i, v in enumerate(item)]
        elif type(item) is int and item.bit_length() > _MAX_INT_BITS:
            parent[key] = None
        else:
            parent[key] = item
    return holder[0]


def loads(body: bytes) -> tuple[Any, str | None]:
    """The decoded JSON value, or None and a one-line message saying why it is not JSON.

    A body that is JSON but too deep or with too long a number is decoded pruned."""
    try:
        return json.loads(body), None
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} at line {exc.lineno} col {exc.colno}"
    except UnicodeDecodeError as exc:
        return None, f"not JSON: invalid UTF-8 at byte {exc.start}"
    except (RecursionError, ValueError):  # ValueError: Python's limit on integer digits
        pruned = prune_bytes(body)
        if pruned is None:
            return None, "not JSON: nested too deeply"
        return loads(pruned)


def json_kind(value: Any) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "list", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def null_at(data: Any, loc: tuple[int | str, ...]) -> bool:
    """Set the value at a pydantic error location to None; False if nothing changed.

    A rejected dict key (`[key]`) drops its entry instead.
    """
    if len(loc) >= 2 and loc[-1] == "[key]":
        parent, last = _walk(data, loc[:-2]), loc[-2]
        if isinstance(parent, dict) and last in parent:
            del parent[last]
            return True
        return False
    if not loc:
        return False
    parent, last = _walk(data, loc[:-1]), loc[-1]
    if isinstance(parent, dict) and parent.get(last) is not None:
        parent[last] = None
        return True
    if _indexable(parent, last) and parent[last] is not None:
        parent[last] = None
        return True
    return False


def _walk(data: Any, path: tuple[int | str, ...]) -> Any:
    for step in path:
        if (isinstance(data, dict) and step in data) or _indexable(data, step):
            data = data[step]
        else:
            return None
    return data


def _indexable(data: Any, index: Any) -> bool:
    return isinstance(data, list) and isinstance(index, int) and -len(data) <= index < len(data)
