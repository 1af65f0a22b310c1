"""The linear JSON structure scan shared by the evcc parser's repair and the web API."""

from __future__ import annotations

from smartload.evcc.repair import prune_bytes
from smartload.jsonscan import nesting, structure


def test_brackets_and_long_numbers_inside_strings_do_not_count():
    raw = b'{"a": "[[{ \\" 12345678", "b": [1, 12345678], "c": "\\\\"}'
    assert nesting(raw) == 2
    assert [(t, raw[s:e]) for t, s, e in structure(raw, 8)] == [
        ("open", b"{"), ("open", b"["), ("number", b"12345678"), ("close", b"]"), ("close", b"}")]


def test_an_unterminated_string_of_escapes_is_one_string():
    raw = b'{"loadpoints": [], "x": "' + b'\\"' * 5000
    assert nesting(raw) == 2
    assert [t for t, _, _ in structure(raw, 4)] == ["open", "open", "close"]
    assert prune_bytes(raw) is None  # nothing too deep or too long outside the string


def test_prune_bytes_nulls_only_what_no_reader_holds():
    deep = b"[" * 70 + b"]" * 70
    raw = b'{"junk": ' + deep + b', "n": ' + b"9" * 500 + b', "s": "' + b"9" * 500 + b'", "ok": [1]}'
    pruned = prune_bytes(raw)
    assert pruned is not None
    assert pruned.count(b"null") == 2 and b'"ok": [1]' in pruned and b"9" * 500 in pruned
