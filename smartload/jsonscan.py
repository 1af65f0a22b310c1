"""JSON bytes scanned for their structure in one linear pass: brackets and over-long
numbers outside strings, for the evcc parser's repair and the web API's depth check.

A regular expression that matches whole strings backtracks quadratically on an
unterminated one full of escapes (9 s for 40 kB), so strings are followed byte by byte
among the few bytes that matter (quotes, backslashes, brackets) instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Literal

Token = Literal["open", "close", "number"]

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENING, _CLOSING = frozenset(b"[{"), frozenset(b"]}")


@lru_cache(maxsize=4)
def _pattern(long_number_chars: int | None) -> re.Pattern[bytes]:
    special = rb'["\\\[\]{}]'
    if long_number_chars is None:
        return re.compile(special)
    return re.compile(special + rb"|-?[0-9][0-9.eE+-]{%d,}" % (long_number_chars - 1))


def structure(raw: bytes, long_number_chars: int | None = None) -> Iterator[tuple[Token, int, int]]:
    """(token, start, end) of each bracket outside strings and, given long_number_chars,
    each number literal outside strings at least that long."""
    in_string, escaped = False, -1
    for match in _pattern(long_number_chars).finditer(raw):
        at = match.start()
        if at == escaped:
            continue
        byte = raw[at]
        if in_string:
            if byte == _BACKSLASH:
                escaped = at + 1
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPENING:
            yield "open", at, match.end()
        elif byte in _CLOSING:
            yield "close", at, match.end()
        elif byte != _BACKSLASH:
            yield "number", at, match.end()


def nesting(raw: bytes) -> int:
    """How deep arrays and objects nest (brackets inside strings do not count)."""
    depth = deepest = 0
    for token, _, _ in structure(raw):
        if token == "open":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest
