"""Fuzzing the JSON API: inputs that try to break every route of web/endpoints.py, and a
harness that sends them to the real server and checks its two promises.

1. No input gets a 5xx.
2. A refused input (4xx) changes nothing: the requests and boosts tables of the SQLite
   file, the manual SoC readings and the event log are as they were before it.

The inputs: a systematic table (every route with every wrong method, no or a wrong token,
unknown vehicles, bad query values, and a list of bad bodies: types, bounds, huge numbers,
bad dates, NaN, deep and huge bodies, invalid UTF-8) and, for hypothesis, a strategy that
mixes the same ingredients at random. tests/web/test_api_fuzz.py runs a few seconds of it;
benchmarks/fuzz_api.py runs many more.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

from smartload.domain import SocReading
from smartload.web import start_web
from smartload.web.endpoints import ENDPOINTS, Endpoint
from tests.web.builders import TOKEN, Parts, make_parts, plan, settings, site_state, zoe_reading

METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS")
VEHICLES = ("zoe", "ioniq", "golf", "ZOE", "zoe%20", "%00", "%ff", "%F0%9F%9A%97", "a" * 300, "zo%2Fe", "\u00e9",
            "null", "0")
AUTHS: tuple[str | None, ...] = (None, f"Bearer {TOKEN}", "Bearer wrong-token", TOKEN, "Basic dXNlcjpwYXNz",
                                 f"bearer {TOKEN}", f"Bearer {TOKEN}x", "Bearer " + "x" * 5000, "Bearer")
QUERY_VALUES = ("", "0", "-1", "1", "50", "200", "1000", "1001", "1e9", "9" * 5000, "abc", "NaN", "\u00bd", "%00",
                "9" * 20, " 5 ", "0x10")
TIMES = ("06:30", "24:00", "7:5", "2026-03-03T06:00:00Z", "2026-03-02T19:00:00Z", "2026-03-16T19:00:00Z",
         "2026-03-16T19:00:01Z", "9999-12-31T23:00:00+00:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00",
         "0001-01-01T00:30:00+01:00", "2026-02-30T00:00:00", "2026-03-02T19:01:59Z", "2026-02-23T19:00:00Z",
         "2026-03-02T20:00", "", "now", "1e10", "2026-03-03T06:00:00+25:00")
FIELDS = ("vehicle", "departure", "target_soc_pct", "energy_kwh", "priority", "minutes", "soc_pct", "measured_at")
NUMBERS: tuple[Any, ...] = (0, -1, 1, 0.5, 1.0, 59.9, 100, 100.0001, 101, 500, 501, 1440, 1441, -0.0, 1e308,
                            -1e308, 2**63, 10**70, -(10**70), 10**4000, True, False)
VALID_BODIES: dict[str, dict[str, Any]] = {
    "add_request": {"vehicle": "zoe", "departure": "06:30", "target_soc_pct": 80},
    "boost": {"minutes": 30},
    "set_soc": {"soc_pct": 50, "measured_at": "2026-03-02T18:50:00Z"},
    "refresh": {},
    "cancel_request": {},  # takes no body; one sent is ignored
}
RAW_BODIES: tuple[bytes, ...] = (
    b"{not json", b"[1, 2]", b"null", b"1", b'"text"', b"\xff\xfe{}", b"{}" + b"\x00",
    b'{"soc_pct": NaN}', b'{"minutes": Infinity}', b'{"target_soc_pct": -Infinity}', b'{"soc_pct": 1e999}',
    b'{"priority": ' + b"9" * 5000 + b', "vehicle": "zoe", "departure": "06:30", "target_soc_pct": 80}',
    b'{"minutes": ' + b"1" * 4400 + b"}", b'{"soc_pct": ' + b"-" + b"9" * 100 + b"}",
    b'{"vehicle": "\\ud800", "departure": "06:30", "target_soc_pct": 80}', b'{"\\ud800": 1}',
    b"[" * 9 + b"]" * 9, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, b"[" * 60_000,
    b"[" * 10 + b'"' + b'\\"' * 20_000, b'["' + b"\\" * 30_000,
    b"[" * 5_000_000, b" " * (64 * 1024 + 1), b'{"minutes": 30' + b" " * 70_000 + b"}",
    b'{"vehicle": "zoe", "vehicle": "golf", "departure": "06:30", "target_soc_pct": 80}',
)

State = tuple[int, int, int]  # database version, manual SoCs entered, events told


@dataclass(frozen=True)
class Probe:
    """One HTTP request."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    auth: str | None = None
    body: bytes | None = None
    host: str | None = None

    def describe(self) -> str:
        body = "" if self.body is None else f" body={self.body[:80]!r}{'...' if len(self.body) > 80 else ''}"
        return f"{self.method} {self.path} query={list(self.query)} auth={(self.auth or '')[:20]!r}{body}"


@dataclass
class Tally:
    tried: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # a 5xx (or no answer at all)
    changed: list[str] = field(default_factory=list)  # a refused input that changed something

    def summary(self) -> str:
        spread = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (f"API fuzz: {self.tried} inputs tried, {len(self.server_errors)} 5xx answers, "
                f"{len(self.changed)} refused inputs that changed state ({spread})")


def _path(endpoint: Endpoint, vehicle: str) -> str:
    return endpoint.path.replace("{vehicle}", vehicle)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def table() -> list[Probe]:
    """The systematic part: every route, each way of being wrong on its own."""
    probes: list[Probe] = []
    auth = f"Bearer {TOKEN}"
    for e in ENDPOINTS:
        path = _path(e, "zoe")
        probes += [Probe(m, path, auth=auth) for m in METHODS if m != e.method]
        probes += [Probe(e.method, _path(e, v), auth=auth) for v in VEHICLES if "{vehicle}" in e.path]
        probes += [Probe(e.method, path, ((q, v),), auth) for q, _ in e.query for v in QUERY_VALUES]
        probes.append(Probe(e.method, path, host="evil.example", auth=auth))
        if not e.write:
            continue
        valid = VALID_BODIES[e.handler]
        probes += [Probe(e.method, path, auth=a, body=_dumps(valid)) for a in AUTHS if a != auth]
        probes += [Probe(e.method, path, auth=auth, body=raw) for raw in RAW_BODIES]
        for name in (*(e.body.model_fields if e.body is not None else ()), "colour"):
            for value in (*NUMBERS, *TIMES, None, [], {}, [[[]]], "x" * 10_000):
                probes.append(Probe(e.method, path, auth=auth, body=_dumps({**valid, name: value})))
    return probes


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.sampled_from(NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(TIMES), st.text(max_size=12),
)
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


_vehicles = st.one_of(st.sampled_from(("zoe", "ioniq")), st.sampled_from(VEHICLES),
                      st.text(max_size=8).map(lambda text: quote(text, safe="")))
_methods = st.sampled_from(METHODS)
_auths = st.one_of(st.just(f"Bearer {TOKEN}"), st.sampled_from(AUTHS))
_query_values = st.one_of(st.sampled_from(QUERY_VALUES), st.text(max_size=8))
_extra_fields = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=6)), _json, max_size=4)


def _endpoint_probes(e: Endpoint) -> st.SearchStrategy[Probe]:
    valid = VALID_BODIES.get(e.handler, {})
    body = st.one_of(
        st.none(),
        _extra_fields.map(lambda extra: _dumps({**valid, **extra})),
        _json.map(_dumps),
        st.sampled_from(RAW_BODIES[:-4]),  # the huge ones are in the table: a few of them suffice
        st.binary(max_size=40),
    )
    query = st.lists(st.tuples(st.sampled_from([q for q, _ in e.query] or ["x"]), _query_values), max_size=2)
    return st.builds(lambda method, vehicle, q, auth, b: Probe(method, _path(e, vehicle), tuple(q), auth, b),
                     st.one_of(st.just(e.method), _methods), _vehicles, query, _auths, body)


# Built once: strategies made inside each draw would be validated again every time.
_PROBES = st.one_of([_endpoint_probes(e) for e in ENDPOINTS])


def probes() -> st.SearchStrategy[Probe]:
    """The random part: a route, maybe a wrong method, vehicle, token, query and body."""
    return _PROBES


class ServedInThread:
    """The real web server over a hand-made system (tests.web.builders), on an event loop
    of its own thread, so a plain client (and hypothesis) can drive it from this one."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fuzzed-server", daemon=True)
        self._stack = AsyncExitStack()
        self.manual: list[SocReading] = []
        self.parts: Parts | None = None
        self.client: httpx.Client | None = None
        self._db: sqlite3.Connection | None = None

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    async def _start(self) -> str:
        parts = make_parts(settings(self._data_dir))
        parts.push_state(site_state())
        parts.push_socs(zoe_reading())
        parts.push_plan(plan())
        parts.system.controls.manual_socs.subscribe(self.manual.append)
        self.parts = parts
        server = await start_web(parts.system, self._stack)
        assert server is not None
        return server.url

    def __enter__(self) -> ServedInThread:
        self._thread.start()
        url = self._run(self._start())
        self.client = httpx.Client(base_url=url, timeout=10)
        self._db = sqlite3.connect(self._data_dir / "smartload.db")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self._db is not None:
            self._db.close()
        self._run(self._stack.aclose())
        if self.parts is not None:
            self.parts.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def state(self) -> State:
        """What a refused request must not change. data_version moves with every commit of
        another connection (the server's stores) to any table: requests, boosts, history."""
        assert self.parts is not None and self._db is not None
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        return version, len(self.manual), len(self.parts.system.live.events)

    def send(self, probe: Probe) -> int:
        """The answer's status (599 if none came)."""
        assert self.client is not None
        headers = {} if probe.auth is None else {"Authorization": probe.auth}
        if probe.host is not None:
            headers["Host"] = probe.host
        if probe.path.startswith("/api/stream"):
            headers["Connection"] = "close"  # the stream never ends: the connection goes with it
        try:
            with self.client.stream(probe.method, probe.path, params=list(probe.query), headers=headers,
                                    content=probe.body) as answer:
                if not answer.headers.get("content-type", "").startswith("text/event-stream"):
                    answer.read()
                return answer.status_code
        except httpx.HTTPError:
            return 599

    def check(self, probe: Probe, tally: Tally) -> str | None:
        """Send one probe; None if the server kept its promises, else what went wrong."""
        before = self.state()
        status = self.send(probe)
        tally.tried += 1
        tally.statuses[status] += 1
        failures = []
        if status >= 500:
            tally.server_errors.append(f"{status} for {probe.describe()}")
            failures.append(tally.server_errors[-1])
        if status >= 400 and self.state() != before:
            tally.changed.append(f"{status} for {probe.describe()} changed the state")
            failures.append(tally.changed[-1])
        return "; ".join(failures) or None
