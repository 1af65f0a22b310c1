"""The JSON API over the real server on 127.0.0.1: reads, auth on writes, errors that name
the field, no CORS by default, the documentation."""

from __future__ import annotations

import io
import socket
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import timedelta

import pytest
from loguru import logger

from smartload.domain import ConnectionEdge
from smartload.planner import CarSlot
from smartload.sinks.desired import Intent
from smartload.sinks.sequencer import Handoff
from smartload.web import start_web
from smartload.web.endpoints import ENDPOINTS
from smartload.web.server import listening_socket
from tests.web.builders import NOW, TOKEN, make_parts, plan, settings
from tests.web.conftest import serve

AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Monday 20:00 in Berlin; "06:30" is Tuesday 06:30 CET.
TUESDAY_0630 = "2026-03-03T05:30:00Z"


async def test_reads_need_no_token_and_show_the_cars_the_plan_and_who_set_evcc(served):
    client = served.client
    zoe, ioniq = (await client.get("/api/vehicles")).json()
    assert zoe == {
        "id": "zoe", "title": "Renault Zoe", "capacity_kwh": 52.0, "plugged_in": True,
        "soc": {"soc_pct": 45.0, "source": "zoe-cloud", "measured_at": "2026-03-02T18:50:00Z",
                "measured_at_known": True, "age_s": 600},
        "loadpoint": {"id": 1, "title": "Garage", "name": "Garage", "charging": True, "charge_power_w": 11000.0},
        "request": {"id": None, "target_soc_pct": 80.0, "energy_kwh": None, "departure": "2026-03-03T06:00:00Z",
                    "priority": 0, "source": "default"},
        "plan": {"target_soc_pct": 80.0, "projected_soc_pct": 55.0, "assumed_soc_pct": None,
                 "departure": "2026-03-03T06:00:00Z",
                 "shortfall_kwh": 13.0, "energy_kwh": 5.5, "cost_eur": 1.51,
                 "reason": "charges 5.5 kWh in the cheapest slots"},
        "boost_until": None,
        "habits": {"usual_arrival": None, "usual_arrival_soc_pct": None, "usual_departure": None,
                   "left_early_share": None, "left_early_min": None, "observations": 0, "away": False,
                   "text": None, "expected": None},
    }
    # ioniq has no SoC: the plan started it at planning.unknown_soc_pct (20 %), and says so.
    assert (ioniq["soc"], ioniq["loadpoint"], ioniq["plugged_in"]) == (None, None, False)
    assert (ioniq["plan"]["projected_soc_pct"], ioniq["plan"]["assumed_soc_pct"]) == (20.0, 20.0)
    # The owner's cold start until something is learned; not seen leaving, so not expected.
    assert (ioniq["habits"]["text"], ioniq["habits"]["expected"]) == (
        "usually home 17:45 with ~40 %; leaves 07:10", None)
    assert (await client.get("/api/vehicles/zoe")).json() == zoe

    plan = (await client.get("/api/plan")).json()
    assert (plan["status"], plan["cost_eur"], len(plan["slots"])) == ("optimal", 1.9625, 4)
    assert plan["slots"][2] == {
        "start": "2026-03-02T19:30:00Z", "end": "2026-03-02T19:45:00Z", "import_eur_per_kwh": 0.2,
        "export_eur_per_kwh": 0.08, "pv_w": 2000, "house_w": 500, "grid_import_w": 2000, "grid_export_w": 0,
        "battery_charge_w": 2500, "battery_discharge_w": 0, "battery_soc_pct": 50.0, "cars": {},
        "reasons": {"zoe": "cheapest slots"}}

    health = (await client.get("/api/health")).json()
    assert health == {"now": "2026-03-02T19:00:00Z", "evcc_reachable": True, "last_poll_at": "2026-03-02T19:00:00Z",
                      "last_tick_at": None, "last_plan_at": "2026-03-02T19:00:00Z", "last_plan_status": "optimal",
                      "last_solve_s": 0.042, "last_error": None, "plan_stale": None, "planner_busy_s": None,
                      "left_out": {}, "mode": "act", "simulator": None}

    # The actuator wants mode now and 16 A for zoe; evcc shows both, and smartload wrote them.
    actuator = served.parts.system.planning.actuator
    actuator.set_desired({"lp1.mode": _intent("now", "cheapest slots"), "lp1.maxcurrent": _intent("16", "11 kW")})
    for write in actuator.on_state(served.parts.system.live.state):
        actuator.ack(write, NOW, None)
    settings_view = (await client.get("/api/evcc-settings")).json()
    rows = {row["key"]: (row["observed"], row["desired"], row["owner"]) for row in settings_view["settings"]}
    assert rows == {"lp1.mode": ("now", "now", "evcc"), "lp1.maxcurrent": ("16", "16", "evcc"),
                    "lp1.limitsoc": ("80", None, "evcc"), "lp1.vehicle": ("zoe", None, "evcc"),
                    "batterymode": ("normal", None, "evcc")}
    assert settings_view["paused_loadpoints"] == []


def _intent(value: str, reason: str) -> Intent:
    return Intent(value, reason)


async def test_every_write_needs_the_bearer_token(served):
    client = served.client
    body = {"vehicle": "zoe", "target_soc_pct": 90, "departure": "06:30"}
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}):
        answer = await client.post("/api/requests", json=body, headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {"error": "authorization: a valid bearer token is required for writes",
                                 "field": "authorization"}
        assert answer.headers["www-authenticate"] == 'Bearer realm="smartload"'
    for method, path in (("DELETE", "/api/requests/zoe"), ("POST", "/api/vehicles/zoe/boost"),
                         ("POST", "/api/vehicles/zoe/soc"), ("POST", "/api/vehicles/zoe/refresh")):
        assert (await client.request(method, path)).status_code == 401
    assert served.parts.store.open_requests() == {}

    created = await client.post("/api/requests", json=body, headers=AUTH)
    assert created.status_code == 201
    assert created.json() == {"id": 1, "target_soc_pct": 90.0, "energy_kwh": None, "departure": TUESDAY_0630,
                              "priority": 0, "source": "api"}
    assert (await client.get("/api/requests")).json()["zoe"]["target_soc_pct"] == 90.0
    cancelled = await client.delete("/api/requests/zoe", headers=AUTH)
    assert cancelled.json() == {"vehicle": "zoe", "cancelled": True}
    assert (await client.get("/api/requests")).json()["zoe"]["source"] == "default"


@pytest.mark.parametrize(("method", "path", "body", "status", "field", "error"), [
    ("POST", "/api/requests", b"{not json", 400, "body", None),
    ("POST", "/api/requests", [1, 2], 400, "body", "body: must be a JSON object"),
    ("POST", "/api/requests", {"vehicle": "zoe", "target_soc_pct": 80}, 422, "departure",
     "departure: Field required"),
    ("POST", "/api/requests", {"vehicle": "zoe", "target_soc_pct": 150, "departure": "06:30"}, 422,
     "target_soc_pct", "target_soc_pct: Input should be less than or equal to 100"),
    ("POST", "/api/requests", {"vehicle": "zoe", "target_soc_pct": 80, "energy_kwh": 10, "departure": "06:30"},
     422, "target_soc_pct", "target_soc_pct: give either target_soc_pct or energy_kwh"),
    ("POST", "/api/requests", {"vehicle": "zoe", "target_soc_pct": 80, "departure": "2026-03-02T18:00:00Z"},
     422, "departure", "departure: must be in the future"),
    ("POST", "/api/requests", {"vehicle": "zoe", "target_soc_pct": 80, "departure": "tomorrow"},
     422, "departure", "departure: must be an RFC 3339 time or HH:MM"),
    ("POST", "/api/requests", {"vehicle": "golf", "target_soc_pct": 80, "departure": "06:30"},
     404, "vehicle", "vehicle: unknown vehicle 'golf'"),
    ("POST", "/api/requests", {"vehicle": "zoe", "target_soc_pct": 80, "departure": "06:30", "colour": "red"},
     422, "colour", "colour: Extra inputs are not permitted"),
    ("POST", "/api/vehicles/zoe/boost", {"minutes": 0}, 422, "minutes",
     "minutes: Input should be greater than or equal to 1"),
    ("POST", "/api/vehicles/golf/boost", {"minutes": 30}, 404, "vehicle", "vehicle: unknown vehicle 'golf'"),
    ("POST", "/api/vehicles/zoe/soc", {"soc_pct": 50, "measured_at": "2026-03-02T20:00:00Z"}, 422,
     "measured_at", "measured_at: lies in the future"),
    ("POST", "/api/vehicles/zoe/soc", {}, 422, "soc_pct", "soc_pct: Field required"),
    ("POST", "/api/vehicles/zoe/refresh", {"now": True}, 422, "now", "now: Extra inputs are not permitted"),
    ("GET", "/api/events?limit=lots", None, 422, "limit", "limit: must be an integer"),
    ("GET", "/api/history?days=0", None, 422, "days", "days: must be between 1 and 90"),
    ("GET", "/api/nothing", None, 404, "path", "path: Not Found"),
    ("PUT", "/api/requests", None, 405, "method", "method: Method Not Allowed"),
])
async def test_bad_input_gets_a_4xx_that_names_the_field(served, method, path, body, status, field, error):
    content = body if isinstance(body, bytes) else None
    json_body = None if isinstance(body, bytes) or body is None else body
    answer = await served.client.request(method, path, content=content, json=json_body, headers=AUTH)
    assert answer.status_code == status
    assert answer.json()["field"] == field
    if error is not None:
        assert answer.json()["error"] == error
    else:
        assert answer.json()["error"].startswith("body: not valid JSON")


async def test_boost_manual_soc_and_refresh_reach_the_controls(served):
    client, parts = served.client, served.parts
    edges: list[ConnectionEdge] = []
    parts.system.controls.refresh_requests.subscribe(edges.append)
    manual = []
    parts.system.controls.manual_socs.subscribe(manual.append)

    boost = await client.post("/api/vehicles/zoe/boost", json={"minutes": 30}, headers=AUTH)
    assert boost.json() == {"vehicle": "zoe", "until": "2026-03-02T19:30:00Z"}
    assert parts.system.planning.sequencer.boosts(NOW) == {"zoe": NOW + timedelta(minutes=30)}

    soc = await client.post("/api/vehicles/zoe/soc", json={"soc_pct": 52.5, "measured_at": "2026-03-02T19:50"},
                            headers=AUTH)  # no offset: site time, 18:50 UTC
    assert soc.json() == {"vehicle": "zoe", "soc_pct": 52.5, "source": "manual", "measured_at": "2026-03-02T18:50:00Z"}
    assert [(r.soc_pct, r.measured_at) for r in manual] == [(52.5, NOW - timedelta(minutes=10))]

    refresh = await client.post("/api/vehicles/zoe/refresh", headers=AUTH)
    assert (refresh.status_code, refresh.json()) == (202, {"vehicle": "zoe", "requested_at": "2026-03-02T19:00:00Z"})
    assert edges == [ConnectionEdge("zoe", 1, NOW, NOW, "manual")]
    kinds = [e["kind"] for e in (await client.get("/api/events?limit=10")).json()]
    assert kinds == ["refresh", "boost"]  # newest first; the refresh request itself is not an event yet


async def test_no_cors_headers_unless_configured(served, tmp_path):
    origin = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    preflight = await served.client.options("/api/requests", headers=origin)
    assert "access-control-allow-origin" not in preflight.headers
    plain = await served.client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers

    config = settings(tmp_path / "cors", web={"token": TOKEN, "port": 0, "cors_origins": ["https://ha.example"]})
    parts = make_parts(config)
    stack, other = await serve(parts)
    async with stack:
        allowed = await other.client.options("/api/requests", headers={**origin, "Origin": "https://ha.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://ha.example"
        refused = await other.client.get("/api/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in refused.headers
    parts.close()


async def test_the_api_is_documented_and_the_page_carries_a_strict_policy(served):
    spec = (await served.client.get("/api/openapi.json")).json()
    operations = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert operations == {(e.method, e.path) for e in ENDPOINTS}
    add = spec["paths"]["/api/requests"]["post"]
    assert add["security"] == [{"bearer": []}]
    assert set(spec["components"]["schemas"]["RequestBody"]["properties"]) == {
        "vehicle", "departure", "target_soc_pct", "energy_kwh", "priority"}
    page = (await served.client.get("/api")).text
    assert all(e.path in page for e in ENDPOINTS)
    index = await served.client.get("/")
    assert index.status_code == 200 and '<div id="chart"' in index.text
    assert index.headers["content-security-policy"].startswith("default-src 'self'")
    assert (await served.client.get("/static/app.js")).headers["content-type"].startswith("text/javascript")


async def test_the_token_never_appears_in_an_answer(served):
    for e in ENDPOINTS:
        if e.method == "GET" and "{" not in e.path and e.handler != "stream":
            assert TOKEN not in (await served.client.get(e.path)).text, e.path


def test_the_listening_socket_disables_nagle():
    # Without TCP_NODELAY every request over loopback waits ~45 ms for a delayed ACK.
    sock = listening_socket("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        sock.close()


async def test_the_next_handoff_is_open_while_the_plan_still_charges_that_car_there(served):
    parts = served.parts
    planning = parts.system.planning
    planning.handoffs.append(Handoff(1, "ioniq", NOW + timedelta(minutes=30), "zoe", NOW))
    # The plan charges only zoe: a handoff to ioniq from an older plan is stale.
    assert (await served.client.get("/api/dashboard")).json()["handoff"] is None
    with_ioniq = plan()
    last = with_ioniq.slots[3]
    cars = {**last.cars, "ioniq": CarSlot(1, 11000.0, 30.0, 2.75)}
    parts.push_plan(replace(with_ioniq, slots=(*with_ioniq.slots[:3], replace(last, cars=cars))))
    dashboard = (await served.client.get("/api/dashboard?events=0")).json()
    # The banner names both cars and the wallbox as the dashboard shows them everywhere.
    assert dashboard["handoff"] == {
        "vehicle": "ioniq", "vehicle_title": "Hyundai Ioniq 5", "wallbox_id": 1, "wallbox": "Garage",
        "by": "2026-03-02T19:30:00Z", "replaces": "zoe", "replaces_title": "Renault Zoe",
        "message": "unplug Renault Zoe, then plug in Hyundai Ioniq 5 at Garage by 20:30"}
    assert dashboard["events"] == []
    # The car to unplug is the one evcc shows there now: a car smartload does not know by
    # evcc's title, a guest car as such; none once the wallbox is free.
    garage = parts.system.live.state.loadpoints[0]
    for shown, replaces, first in (
        (replace(garage, vehicle_name="golf", vehicle_title="VW Golf"), "golf", "unplug VW Golf, then "),
        (replace(garage, vehicle_name=""), "zoe", "unplug Renault Zoe, then "),
        (replace(garage, connected=False, charging=False, vehicle_name=None), None, ""),
    ):
        parts.push_state(replace(parts.system.live.state, loadpoints=(shown,)))
        handoff = (await served.client.get("/api/dashboard")).json()["handoff"]
        assert (handoff["replaces"], handoff["message"]) == (
            replaces, f"{first}plug in Hyundai Ioniq 5 at Garage by 20:30")
    parts.push_state(replace(parts.system.live.state, loadpoints=(replace(garage, vehicle_name=""),)))
    parts.system.planning.handoffs.append(Handoff(1, "ioniq", NOW + timedelta(minutes=30), None, NOW))
    assert (await served.client.get("/api/dashboard")).json()["handoff"]["message"] == (
        "unplug the car plugged in there, then plug in Hyundai Ioniq 5 at Garage by 20:30")
    parts.push_state(replace(parts.system.live.state, loadpoints=(garage,)))
    # A newer handoff at the same wallbox replaces it; zoe is there already, so none is open.
    planning.handoffs.append(Handoff(1, "zoe", NOW + timedelta(hours=1), None, NOW))
    assert (await served.client.get("/api/dashboard")).json()["handoff"] is None


async def test_a_taken_port_leaves_the_service_running_without_the_web_server(tmp_path):
    taken = listening_socket("127.0.0.1", 0)
    taken.listen()
    port = taken.getsockname()[1]
    parts = make_parts(settings(tmp_path, web={"token": TOKEN, "port": port}))
    log = io.StringIO()
    sink = logger.add(log, level="INFO")
    async with AsyncExitStack() as stack:
        assert await start_web(parts.system, stack) is None
    logger.remove(sink)
    taken.close()
    parts.close()
    assert f"web: cannot listen on 127.0.0.1:{port} (Address already in use); the dashboard and API are off" \
        in log.getvalue()
