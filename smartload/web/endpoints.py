"""The endpoint table: routes, the OpenAPI document and the endpoint list page come from it.

Each endpoint names the type its handler answers with (the TypedDicts of view_types.py
and store/rows.py, which mypy checks the handlers against); the document's response
schemas are generated from those types, as the request bodies' are from their models."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from smartload import __version__
from smartload.store.rows import EventRow, PlanRow, ReadingRow, WriteRow
from smartload.view_types import (
    BoostedView,
    CancelledView,
    DashboardView,
    Error,
    EvccSettingsView,
    HealthView,
    HistoryView,
    PlanView,
    RefreshAskedView,
    RequestView,
    SiteView,
    SocEnteredView,
    TariffsView,
    VehicleView,
)
from smartload.web.inputs import BoostBody, EmptyBody, RequestBody, SocBody


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: str  # the Api method that answers
    summary: str
    write: bool = False
    body: type[BaseModel] | None = None
    query: tuple[tuple[str, str], ...] = ()
    status: int = 200
    media: str = "application/json"
    # The type of the JSON answer (None: not JSON).
    response: Any = None


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/api/dashboard", "dashboard", "Everything the dashboard shows: site, cars, plan, evcc "
             "settings, next handoff, health, recent events", query=(("events", "how many events (0-200, 50)"),),
             response=DashboardView),
    Endpoint("GET", "/api/state", "state", "evcc's latest state as smartload read it", response=SiteView | None),
    Endpoint("GET", "/api/vehicles", "vehicles", "Each car: SoC with source and age, request, projection",
             response=list[VehicleView]),
    Endpoint("GET", "/api/vehicles/{vehicle}", "vehicle", "One car", response=VehicleView),
    Endpoint("GET", "/api/vehicles/{vehicle}/socs", "soc_history", "The car's stored SoC readings",
             query=(("hours", "how far back (24)"),), response=list[ReadingRow]),
    Endpoint("GET", "/api/plan", "plan", "The current plan: per slot prices, PV, battery and each car's power; "
             "its status explained", response=PlanView | None),
    Endpoint("GET", "/api/plans", "plans", "Stored plan summaries, newest first", query=(("limit", "(50)"),),
             response=list[PlanRow]),
    Endpoint("GET", "/api/tariffs", "tariffs", "Grid, feed-in and solar forecast rates", response=TariffsView),
    Endpoint("GET", "/api/requests", "requests", "The charge request in force per car",
             response=dict[str, RequestView | None]),
    Endpoint("POST", "/api/requests", "add_request", "Add a charge request (replaces the car's open one)",
             write=True, body=RequestBody, status=201, response=RequestView),
    Endpoint("DELETE", "/api/requests/{vehicle}", "cancel_request", "Cancel the car's request", write=True,
             response=CancelledView),
    Endpoint("POST", "/api/vehicles/{vehicle}/boost", "boost", "Full power now for a while", write=True,
             body=BoostBody, response=BoostedView),
    Endpoint("POST", "/api/vehicles/{vehicle}/soc", "set_soc", "Enter the car's SoC by hand", write=True,
             body=SocBody, response=SocEnteredView),
    Endpoint("POST", "/api/vehicles/{vehicle}/refresh", "refresh", "Ask the car's cloud for its SoC now "
             "(throttle and daily budget apply)", write=True, body=EmptyBody, status=202,
             response=RefreshAskedView),
    Endpoint("GET", "/api/evcc-settings", "evcc_settings", "evcc's settings: observed, smartload's desired "
             "value and reason, who set it; paused loadpoints", response=EvccSettingsView),
    Endpoint("GET", "/api/health", "health", "evcc reachable, last poll, tick and plan, solve time; "
             "the simulator's speed when evcc is the embedded simulator", response=HealthView),
    Endpoint("GET", "/api/events", "events", "The event log, newest first",
             query=(("limit", "(100)"), ("kind", "plug-in, refresh, handoff, write, error, ...")),
             response=list[EventRow]),
    Endpoint("GET", "/api/writes", "writes", "Stored writes to evcc, newest first", query=(("limit", "(100)"),),
             response=list[WriteRow]),
    Endpoint("GET", "/api/history", "history", "Planned versus actual cost and energy per car, per day",
             query=(("days", "(7)"),), response=HistoryView),
    Endpoint("GET", "/api/stream", "stream", "Server-sent events: dashboard, live, plan, event",
             media="text/event-stream"),
    Endpoint("GET", "/metrics", "metrics", "Prometheus metrics", media="text/plain"),
)

_REF = "#/components/schemas/{model}"


def _schemas() -> tuple[dict[tuple[str, JsonSchemaMode], Any], dict[str, Any]]:
    """Each endpoint's answer schema (by handler) and each body's (by name), generated
    in one pass so that every type they share is one entry of components/schemas."""
    inputs: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = []
    for e in ENDPOINTS:
        if e.response is not None:
            inputs.append((e.handler, "serialization", TypeAdapter(e.response)))
        if e.body is not None:
            inputs.append((e.body.__name__, "validation", TypeAdapter(e.body)))
    inputs.append(("Error", "serialization", TypeAdapter(Error)))
    by_key, definitions = TypeAdapter.json_schemas(inputs, ref_template=_REF)
    defs: dict[str, Any] = definitions.get("$defs", {})
    return by_key, defs


def openapi(version: str = __version__) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    by_key, defs = _schemas()
    schemas: dict[str, Any] = defs
    for e in ENDPOINTS:
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in re.findall(r"{(\w+)}", e.path)]
        params += [{"name": q, "in": "query", "required": False, "description": d, "schema": {"type": "string"}}
                   for q, d in e.query]
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        media = {"schema": by_key[e.handler, "serialization"]} if e.response is not None else {
            "schema": {"type": "string"}}
        op: dict[str, Any] = {"summary": e.summary, "operationId": e.handler, "parameters": params,
                              "responses": {str(e.status): {"description": "OK", "content": {e.media: media}},
                                            "4XX": {"description": "bad input; `field` names it", **error}}}
        if e.write:
            op["security"] = [{"bearer": []}]
            op["responses"]["401"] = {"description": "no or wrong bearer token", **error}
        if e.body is not None:
            body = by_key[e.body.__name__, "validation"]
            op["requestBody"] = {"required": e.body is not EmptyBody, "content": {"application/json": {
                "schema": body}}}
        paths.setdefault(e.path, {})[e.method.lower()] = op
    return {"openapi": "3.1.0", "info": {"title": "smartload", "version": version},
            "paths": paths, "components": {"schemas": schemas,
                                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}


def endpoint_page() -> str:
    rows = "".join(
        f"<tr><td>{e.method}</td><td><code>{html.escape(e.path)}</code></td>"
        f"<td>{'token' if e.write else ''}</td><td>{html.escape(e.summary)}</td></tr>" for e in ENDPOINTS)
    return ("<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            "<title>smartload API</title><link rel=stylesheet href='static/style.css'><body class=doc>"
            "<h1>smartload API</h1><p>JSON in and out. Writes need <code>Authorization: Bearer &lt;token&gt;</code>"
            " (settings <code>web.token</code>, or the file <code>web_token</code> in the data directory). Bad input"
            " gets a 4xx with <code>{\"error\": \"field: why\", \"field\": \"field\"}</code>. Times are RFC 3339."
            " Machine-readable: <a href='api/openapi.json'>/api/openapi.json</a>.</p>"
            f"<table><tr><th>method</th><th>path</th><th>auth</th><th>what</th></tr>{rows}</table></body></html>")
