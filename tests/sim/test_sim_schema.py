"""Every /api/state the simulator serves validates against evcc's own openapi.state.yaml.

The spec is kept in tests/data/evcc (evcc's own, MIT; see SOURCES.md there). It is
OpenAPI: `nullable: true` becomes a null alternative, and a date-time may be null because
evcc's encoder writes the zero time as null. Older layouts are checked part by part:
what did not change against the spec, the changed parts against their old shape.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer

from .helpers import local

SPEC = Path(__file__).parents[1] / "data" / "evcc" / "openapi_evcc-master-b29b49e3" / "openapi.state.yaml"


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    nullable = node.pop("nullable", False) or node.get("format") == "date-time"
    if nullable:
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.protocols.Validator]:
    schemas = _nullable(yaml.safe_load(SPEC.read_text(encoding="utf-8")))["components"]["schemas"]
    checker = jsonschema.FormatChecker()
    checker.checks("date-time", raises=ValueError)(_date_time)
    return {
        name: jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}",
                                               "components": {"schemas": schemas}}, format_checker=checker)
        for name in ("State", "Rate", "BatteryMeter")
    }


def check(validator: jsonschema.protocols.Validator, body: Any, label: str) -> None:
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{label}: " + "; ".join(f"{list(e.absolute_path)}: {e.message[:160]}" for e in errors[:5])


def check_current(validators, body: dict[str, Any], label: str) -> None:
    check(validators["State"], body, label)
    assert isinstance(body["forecast"]["grid"][0], list), label
    assert isinstance(body["battery"], dict), label


def sim_settings(scenario: str, layout: str = "0.315.0", start: str = "2024-07-15T11:58:00") -> SimSettings:
    return SimSettings(scenario=scenario, start=local(start), layout=layout, seed=2)


async def served_states(settings: SimSettings, script) -> list[tuple[str, Any]]:
    """GET /api/state over HTTP at each point of a script of (label, action) pairs."""
    bodies = []
    async with SimServer(settings, run_clock=False) as server, httpx.AsyncClient(base_url=server.url) as client:
        for label, action in script:
            await action(server, client)
            response = await client.get("/api/state")
            assert response.status_code == 200
            bodies.append((label, response.json()))
    return bodies


def advance(seconds: float):
    async def action(server, client):
        server.advance(seconds)
    return action


def post(*paths: str, method: str = "POST"):
    async def action(server, client):
        for path in paths:
            assert (await client.request(method, path)).status_code == 200, path
    return action


HOUSEHOLD_DAY = [
    ("start", advance(0)),
    ("detecting", advance(100)),
    ("identified and writes", post("/api/loadpoints/1/mode/now", "/api/loadpoints/1/smartcostlimit/0.3",
                                   "/api/vehicles/zoe/plan/soc/90/2024-07-16T05:00:00Z", "/api/batterymode/hold",
                                   "/api/batterygridchargelimit/0.1", "/api/loadpoints/1/limitsoc/95")),
    ("charging, after 13:00", advance(3600)),
    ("pv mode with a plan", post("/api/loadpoints/1/mode/pv")),
    ("evening", advance(8 * 3600)),
    ("night, guest", post("/api/loadpoints/1/vehicle", method="DELETE")),
    ("next morning", advance(9 * 3600)),
]


async def test_household_states_over_a_day(validators):
    for label, body in await served_states(sim_settings("household"), HOUSEHOLD_DAY):
        check_current(validators, body, label)
    assert label == "next morning"


@pytest.mark.parametrize("scenario", ["two_wallboxes", "business"])
async def test_bigger_sites(validators, scenario):
    script = [("start", advance(0)), ("an hour on", advance(3600)), ("all now", post("/api/smartcostlimit/0.5")),
              ("evening", advance(6 * 3600))]
    for label, body in await served_states(sim_settings(scenario), script):
        check_current(validators, body, f"{scenario} {label}")
        assert len(body["loadpoints"]) == (2 if scenario == "two_wallboxes" else 3)


async def test_0301_layout_has_object_forecasts(validators):
    for label, body in await served_states(sim_settings("household", "0.301.0"), HOUSEHOLD_DAY[:4]):
        forecast = body.pop("forecast")
        check(validators["State"], {**body, "forecast": {}}, label)
        for rate in forecast["grid"] + forecast["feedin"] + forecast["planner"]:
            check(validators["Rate"], rate, label)
        assert set(forecast["solar"]["timeseries"][0]) == {"ts", "val"}
        assert isinstance(body["battery"], dict)


@pytest.mark.parametrize("layout", ["0.207.5", "0.206.0"])
async def test_old_battery_keys_and_wrapper(validators, layout):
    for label, body in await served_states(sim_settings("household", layout), HOUSEHOLD_DAY[:4]):
        if layout == "0.206.0":
            assert set(body) == {"result"}
            body = body["result"]
        battery, forecast = body.pop("battery"), body.pop("forecast")
        check(validators["State"], {**body, "forecast": {}}, label)
        for device in battery:
            check(validators["BatteryMeter"], device, label)
        for rate in forecast["grid"]:
            check(validators["Rate"], rate, label)
        assert {"batteryPower", "batterySoc", "batteryCapacity", "batteryEnergy"} <= set(body)
        assert body["batterySoc"] == battery[0]["soc"]


REAL_SITE_DAY = [
    ("start", advance(0)),
    ("midday", advance(2 * 3600)),
    ("writes", post("/api/loadpoints/2/mode/now", "/api/loadpoints/2/limitsoc/60", "/api/loadpoints/2/mintemp/40",
                    "/api/batterymode/hold", "/api/loadpoints/1/limitenergy/5", "/api/loadpoints/1/mode/now")),
    ("boosting", advance(600)),
    ("evening", advance(8 * 3600)),
    ("next day", advance(16 * 3600)),
]


async def test_real_site_states_over_a_day(validators):
    bodies = await served_states(sim_settings("real_site"), REAL_SITE_DAY)
    for label, body in bodies:
        check_current(validators, body, f"real_site {label}")
        heat_pump = body["loadpoints"][1]
        assert (heat_pump["chargerFeatureHeating"], heat_pump["connected"], heat_pump["vehicleName"]) == (
            True, True, ""), label
        assert body["battery"]["devices"][0]["controllable"] is False
        assert body["batteryMode"] == "unknown" and "batteryModeExternal" not in body
        assert body["vehicles"]["honda"]["features"] == ["Offline"]
    assert [label for label, _ in bodies][-1] == "next day"
    boosting = dict(bodies)["boosting"]["loadpoints"][1]
    assert (boosting["mode"], boosting["limitSoc"], boosting["minSoc"], boosting["charging"]) == ("now", 60, 40, True)


async def test_real_site_in_an_old_layout_and_demo_mode(validators):
    settings = SimSettings(scenario="real_site", start=local("2024-07-15T11:58:00"), layout="0.207.5", seed=2,
                           demo_mode=True)
    for label, body in await served_states(settings, REAL_SITE_DAY[:3]):
        battery, forecast = body.pop("battery"), body.pop("forecast")
        check(validators["State"], {**body, "forecast": {}}, label)
        for rate in forecast["grid"]:
            check(validators["Rate"], rate, label)
        assert [device["controllable"] for device in battery] == [False]
        for device in battery:
            check(validators["BatteryMeter"], device, label)
        assert (body["demoMode"], "authDisabled" in body) == (True, False)
