"""The API refuses what cannot be planned or is no honest reading, with a 4xx naming the
field, and stores nothing from a refused request: departures beyond 14 days or in the
past, targets, energies and priorities out of bounds, a manual SoC measured in year 1 or
9999, bodies too large or too deep. Against the real server over loopback."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from smartload.jsonscan import nesting
from tests.web.builders import NOW, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def stored(data_dir: Path) -> tuple[list[Any], list[Any]]:
    """Every row of the requests and boosts tables, read through a connection of its own."""
    with sqlite3.connect(data_dir / "smartload.db") as db:
        return (db.execute("SELECT * FROM requests ORDER BY id").fetchall(),
                db.execute("SELECT * FROM boosts ORDER BY vehicle").fetchall())


def request(**fields: Any) -> dict[str, Any]:
    return {"vehicle": "ioniq", "departure": "2026-03-03T06:00:00Z", "target_soc_pct": 60, **fields}


OUT_OF_BOUNDS = [
    (request(departure="9999-12-31T23:00:00+00:00"), "departure", "departure: must be at most 14 days ahead"),
    (request(departure="9999-12-31T23:59:59-01:00"), "departure", "departure: must be at most 14 days ahead"),
    (request(departure="2026-03-16T19:00:01Z"), "departure", "departure: must be at most 14 days ahead"),
    (request(departure="0001-01-01T00:00:00"), "departure", "departure: must be in the future"),
    (request(departure="2026-03-02T19:00:00Z"), "departure", "departure: must be in the future"),
    (request(departure="x" * 10_000), "departure", "departure: must be an RFC 3339 time or HH:MM"),
    (request(target_soc_pct=0.5), "target_soc_pct", "target_soc_pct: Input should be greater than or equal to 1"),
    (request(target_soc_pct=100.5), "target_soc_pct", "target_soc_pct: Input should be less than or equal to 100"),
    (request(target_soc_pct=None, energy_kwh=0), "energy_kwh", "energy_kwh: Input should be greater than 0"),
    (request(target_soc_pct=None, energy_kwh=501), "energy_kwh",
     "energy_kwh: Input should be less than or equal to 500"),
    (request(target_soc_pct=None), "target_soc_pct", "target_soc_pct: give either target_soc_pct or energy_kwh"),
    (request(priority=101), "priority", "priority: Input should be less than or equal to 100"),
    (request(priority=-1), "priority", "priority: Input should be greater than or equal to 0"),
    (request(priority=int("9" * 4000)), "priority", "priority: Input should be a finite number"),
    (request(target_soc_pct=int("9" * 80)), "target_soc_pct",
     "target_soc_pct: Input should be less than or equal to 100"),
    (request(vehicle="golf"), "vehicle", "vehicle: unknown vehicle 'golf'"),
    (request(vehicle="g" * 5000), "vehicle", f"vehicle: unknown vehicle {'g' * 64!r}"),
]


async def test_a_request_out_of_bounds_gets_422_naming_the_field_and_stores_nothing(served):
    data_dir = served.parts.system.settings.data_dir
    before = stored(data_dir)
    for body, field, error in OUT_OF_BOUNDS:
        answer = await served.client.post("/api/requests", json=body, headers=AUTH)
        assert answer.status_code == (404 if field == "vehicle" else 422), body
        assert answer.json() == {"error": error, "field": field}
        assert stored(data_dir) == before, body
    assert list(served.parts.system.live.events) == []


async def test_a_request_at_the_edge_of_the_bounds_is_stored(served):
    data_dir = served.parts.system.settings.data_dir
    answer = await served.client.post("/api/requests", headers=AUTH, json=request(
        departure="2026-03-16T20:00:00+01:00", target_soc_pct=1, priority=100))  # exactly 14 days ahead
    assert answer.status_code == 201
    assert answer.json() == {"id": 1, "target_soc_pct": 1.0, "energy_kwh": None, "departure": "2026-03-16T19:00:00Z",
                             "priority": 100, "source": "api"}
    assert stored(data_dir)[0][0][1:6] == ("ioniq", 1.0, None, "2026-03-16T19:00:00+00:00", 100)


BAD_JSON = [
    (b'{"vehicle": "ioniq", "departure": "06:30", "target_soc_pct": NaN}', 400,
     "body: not valid JSON (NaN is not a JSON number)"),
    (b'{"vehicle": "ioniq", "departure": "06:30", "target_soc_pct": Infinity}', 400,
     "body: not valid JSON (Infinity is not a JSON number)"),
    (b'{"vehicle": "ioniq", "departure": "06:30", "target_soc_pct": 1e999}', 422,
     "target_soc_pct: Input should be less than or equal to 100"),
    (b'{"vehicle": "ioniq", "departure": "06:30", "priority": ' + b"9" * 5000 + b', "target_soc_pct": 60}', 422,
     "priority: Input should be a finite number"),
    (b"[" * 9 + b"]" * 9, 400, "body: nests deeper than 8 levels"),
    (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, 400, "body: nests deeper than 8 levels"),
    (b'{"vehicle": "[[[[[[[[[[[[[[[[", "departure": "06:30", "target_soc_pct": 60}', 404,
     "vehicle: unknown vehicle '[[[[[[[[[[[[[[[['"),  # brackets in a string do not nest
    # An unterminated string of escapes: a backtracking scan took seconds over it (the client waits 5 s).
    (b"[" * 10 + b'"' + b'\\"' * 20_000, 400, "body: nests deeper than 8 levels"),
    (b"\xff\xfe{}", 400, None),
    (b'{"vehicle": "\\ud800", "departure": "06:30", "target_soc_pct": 60}', 404,
     "vehicle: unknown vehicle '\\ud800'"),
    (b'{"\\ud800": 1}', 422, "body: Input should be a valid string, unable to parse raw data as a unicode string"),
]


async def test_bad_json_gets_a_4xx_and_stores_nothing(served):
    data_dir = served.parts.system.settings.data_dir
    before = stored(data_dir)
    for raw, status, error in BAD_JSON:
        answer = await served.client.post("/api/requests", content=raw, headers=AUTH)
        assert answer.status_code == status, raw[:80]
        if error is not None:
            assert answer.json()["error"] == error
        else:
            assert answer.json()["error"].startswith("body: not valid JSON")
        assert stored(data_dir) == before, raw[:80]


async def test_bodies_over_64_kb_get_413_before_they_are_read(served):
    data_dir = served.parts.system.settings.data_dir
    before = stored(data_dir)
    deep = b"[" * 5_000_000  # 5 MB nested: would be a RecursionError if it were parsed
    answer = await served.client.post("/api/requests", content=deep, headers=AUTH)
    assert (answer.status_code, answer.json()) == (413, {"error": "body: must be at most 64 kB", "field": "body"})

    async def chunks():  # no Content-Length: counted while it streams in
        for _ in range(100):
            yield b" " * 50_000

    streamed = await served.client.post("/api/vehicles/zoe/boost", content=chunks(), headers=AUTH)
    assert (streamed.status_code, streamed.json()["field"]) == (413, "body")
    just_fits = b'{"minutes": 30' + b" " * (64 * 1024 - 15) + b"}"
    assert len(just_fits) == 64 * 1024
    assert (await served.client.post("/api/vehicles/zoe/boost", content=just_fits, headers=AUTH)).status_code == 200
    over = just_fits[:-1] + b" }"
    assert (await served.client.post("/api/vehicles/zoe/boost", content=over, headers=AUTH)).status_code == 413
    assert stored(data_dir)[0] == before[0]
    assert len(stored(data_dir)[1]) == 1  # the one boost that fitted
    # The server still answers on the same client after the refusals.
    assert (await served.client.get("/api/health")).status_code == 200


async def test_a_manual_soc_outside_a_week_back_to_now_is_refused_and_not_applied(served):
    applied = []
    served.parts.system.controls.manual_socs.subscribe(applied.append)
    for measured_at, error in (
        ("0001-01-01T00:00:00", "measured_at: lies more than 7 days back"),
        ("9999-12-31T23:59:59-01:00", "measured_at: lies in the future"),
        ("2026-02-23T18:59:59Z", "measured_at: lies more than 7 days back"),
        ("2026-03-02T19:02:01Z", "measured_at: lies in the future"),
    ):
        answer = await served.client.post("/api/vehicles/zoe/soc", json={"soc_pct": 50, "measured_at": measured_at},
                                          headers=AUTH)
        assert (answer.status_code, answer.json()) == (422, {"error": error, "field": "measured_at"})
    assert applied == []
    assert [e.kind for e in served.parts.system.live.events] == []


async def test_a_manual_soc_a_little_ahead_of_our_clock_counts_as_now(served):
    applied = []
    served.parts.system.controls.manual_socs.subscribe(applied.append)
    answer = await served.client.post("/api/vehicles/zoe/soc", json={"soc_pct": 50, "measured_at":
                                                                    "2026-03-02T19:01:59Z"}, headers=AUTH)
    assert answer.json() == {"vehicle": "zoe", "soc_pct": 50.0, "source": "manual", "measured_at":
                             "2026-03-02T19:00:00Z"}
    week = await served.client.post("/api/vehicles/zoe/soc", json={"soc_pct": 40, "measured_at":
                                                                  "2026-02-23T19:00:00Z"}, headers=AUTH)
    assert week.status_code == 200
    assert [(r.soc_pct, r.measured_at) for r in applied] == [(50.0, NOW), (40.0, NOW - timedelta(days=7))]


def test_nesting_counts_brackets_outside_strings_only():
    assert nesting(b'{"a": [1, {"b": "]]]"}]}') == 3
    assert nesting(b'["\\\\", [[]]]') == 3  # an escaped backslash ends before the quote
    assert nesting(b'["\\"[[", []]') == 2  # an escaped quote does not end the string
    assert nesting(b"[[[") == 3 and nesting(b"") == 0
