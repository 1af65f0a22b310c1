"""Every answer of the real server on 127.0.0.1 validates against the response schema the
server's own OpenAPI document gives for it (jsonschema, draft 2020-12 as OpenAPI 3.1
uses): each GET endpoint on a busy system and on an empty one (its nulls and 404s), and
each write. The schemas are closed, so a key the document does not name fails too."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from smartload.domain import PollError
from smartload.events import Event
from smartload.narrate import write_event
from smartload.planner import CarSlot
from smartload.sinks.actuator import Write
from smartload.sinks.sequencer import Handoff
from smartload.web.endpoints import ENDPOINTS
from tests.web.builders import NOW, TOKEN, make_parts, plan, settings, site_state, tariffs, zoe_reading
from tests.web.conftest import serve

AUTH = {"Authorization": f"Bearer {TOKEN}"}
_DOC = "urn:smartload:openapi"


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Document:
    """The server's OpenAPI document, and a check of one answer against it."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.registry: Registry[Any] = Registry().with_resource(_DOC, Resource.from_contents(
            doc, default_specification=DRAFT202012))

    def check(self, method: str, path: str, answer: httpx.Response) -> None:
        responses = self.doc["paths"][path][method.lower()]["responses"]
        status = str(answer.status_code)
        key = status if status in responses else f"{status[0]}XX"
        assert key in responses, (method, path, status)
        pointer = _pointer("paths", path, method.lower(), "responses", key, "content", "application/json", "schema")
        validator = jsonschema.Draft202012Validator({"$ref": f"{_DOC}#/{pointer}"}, registry=self.registry)
        validator.validate(answer.json())


async def _document(client: httpx.AsyncClient) -> Document:
    return Document((await client.get("/api/openapi.json")).json())


def _url(path: str) -> str:
    return re.sub(r"{vehicle}", "zoe", path)


JSON_GETS = [e for e in ENDPOINTS if e.method == "GET" and e.media == "application/json"]


async def _check_every_get(client: httpx.AsyncClient, doc: Document) -> dict[str, int]:
    statuses = {}
    for e in JSON_GETS:
        answer = await client.get(_url(e.path))
        doc.check("GET", e.path, answer)
        statuses[e.path] = answer.status_code
    return statuses


async def test_every_answer_of_a_busy_system_matches_the_openapi_document(tmp_path):
    parts = make_parts(settings(tmp_path))
    parts.push_state(replace(site_state(), solar_adjusted=True))  # evcc's switch on: the scale is shown
    parts.push_socs(zoe_reading())
    parts.subjects["tariffs"].on_next(tariffs())
    with_ioniq = plan()  # ioniq takes over zoe's wallbox in the last slot: a handoff is open
    last = with_ioniq.slots[3]
    cars = {**last.cars, "ioniq": CarSlot(1, 11000.0, 30.0, 2.75)}
    parts.push_plan(replace(with_ioniq, slots=(*with_ioniq.slots[:3], replace(last, cars=cars))))
    parts.system.planning.handoffs.append(Handoff(1, "ioniq", NOW + timedelta(minutes=30), "zoe", NOW))
    bus = parts.system.bus
    bus.publish(write_event(Write("lp1.mode", "POST", "/api/loadpoints/1/mode/now", "now", "cheap"), NOW, None))
    bus.publish(Event(NOW, "handoff", "handoff", "ioniq", {"wallbox": 1, "by": NOW}))
    stack, served = await serve(parts)
    async with stack:
        client = served.client
        doc = await _document(client)
        # Writes first, so the reads see a stored request, a boost and a hand-entered SoC.
        for method, path, body, status in (
            ("POST", "/api/requests", {"vehicle": "ioniq", "target_soc_pct": 90, "departure": "06:30"}, 201),
            ("POST", "/api/vehicles/{vehicle}/boost", {"minutes": 30}, 200),
            ("POST", "/api/vehicles/{vehicle}/soc", {"soc_pct": 47}, 200),
            ("POST", "/api/vehicles/{vehicle}/refresh", None, 202),
            ("DELETE", "/api/requests/{vehicle}", None, 200),
            ("POST", "/api/requests", {"vehicle": "zoe", "target_soc_pct": 150, "departure": "06:30"}, 422),
            ("POST", "/api/vehicles/{vehicle}/boost", {"minutes": 30}, 401),
        ):
            headers = AUTH if status != 401 else {}
            answer = await client.request(method, _url(path), json=body, headers=headers)
            assert answer.status_code == status, (method, path, answer.text)
            doc.check(method, path, answer)
        statuses = await _check_every_get(client, doc)
        assert set(statuses.values()) == {200}
        # Refusals before routing (a foreign Host: DNS rebinding) have the documented error shape too.
        refused = await client.get("/api/health", headers={"Host": "evil.example"})
        assert refused.status_code == 421
        doc.check("GET", "/api/health", refused)
        dashboard = (await client.get("/api/dashboard")).json()
        assert dashboard["handoff"]["replaces"] == "zoe"
        assert dashboard["plan"]["status_text"] == "optimal, within 0.00 EUR of the best bound"
        # One poll is no quarter-hour of PV yet: the forecast is planned as it is, and says so.
        assert (await client.get("/api/tariffs")).json()["solar_scale"] == {
            "day": 1.0, "now": 1.0, "forecast_today_kwh": 0.0, "produced_today_kwh": 0.0}
        # Each list was checked with rows in it, not only empty.
        counts = {p: len((await client.get(p)).json()) for p in (
            "/api/plans", "/api/writes", "/api/vehicles/zoe/socs", "/api/events")}
        assert counts == {"/api/plans": 1, "/api/writes": 1, "/api/vehicles/zoe/socs": 1, "/api/events": 5}
        kinds = [e["kind"] for e in (await client.get("/api/events")).json()]
        assert kinds == ["refresh", "boost", "request", "handoff", "write"]  # newest first, from the store

        # While evcc is unreachable, whether a car is plugged in is not known.
        parts.subjects["errors"].on_next(PollError(NOW, "connect", "connection refused"))
        statuses = await _check_every_get(client, doc)
        assert {v["id"]: v["plugged_in"] for v in (await client.get("/api/vehicles")).json()} == {
            "zoe": None, "ioniq": None}
        # The schemas are closed: an answer with a key the document does not name fails.
        health = await client.get("/api/health")
        with pytest.raises(jsonschema.ValidationError, match="Additional properties"):
            doc.check("GET", "/api/health", httpx.Response(200, json={**health.json(), "uptime_s": 5}))
    parts.close()


async def test_every_answer_of_an_empty_system_matches_the_openapi_document(tmp_path):
    """No evcc state, no plan, no SoC, no history store: nulls and 404s, as documented."""
    parts = make_parts(settings(tmp_path), with_history=False)
    stack, served = await serve(parts)
    async with stack:
        doc = await _document(served.client)
        statuses = await _check_every_get(served.client, doc)
        assert (await served.client.get("/api/plan")).json() is None
        assert (await served.client.get("/api/state")).json() is None
    parts.close()
    history = {"/api/vehicles/{vehicle}/socs", "/api/plans", "/api/writes", "/api/history"}
    assert {p for p, s in statuses.items() if s == 404} == history
    assert {s for p, s in statuses.items() if p not in history} == {200}


def test_every_json_answer_has_a_schema_and_none_is_empty():
    from smartload.web.endpoints import openapi

    doc = openapi()
    for e in ENDPOINTS:
        content = doc["paths"][e.path][e.method.lower()]["responses"][str(e.status)]["content"]
        assert content[e.media]["schema"], (e.method, e.path)
        if e.media == "application/json":
            assert e.response is not None, (e.method, e.path)
    vehicle = doc["components"]["schemas"]["VehicleView"]
    assert vehicle["additionalProperties"] is False
    assert vehicle["properties"]["plugged_in"] == {"anyOf": [{"type": "boolean"}, {"type": "null"}],
                                                   "title": "Plugged In"}
