"""Home Assistant MQTT discovery against a real mosquitto: the exact config messages, the
unique-id prefix, and the clearing of entities no longer configured."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from typing import Any

import aiomqtt

from smartload import __version__
from tests.homeassistant.conftest import Watcher, bridge_settings, start_bridge
from tests.web.builders import TOKEN

AVAILABILITY = {"availability_topic": "smartload/status", "payload_available": "online",
                "payload_not_available": "offline"}
ZOE_STATE = "smartload/vehicle/zoe/state"


def config_topics(watcher: Watcher) -> dict[str, str]:
    """Each config topic's last payload, of every node."""
    return {t: v[-1] for t, v in watcher.seen.items() if t.startswith("homeassistant/") and t.endswith("/config")}


def expected_site(version: str) -> dict[str, dict[str, Any]]:
    origin = {"name": "smartload", "sw_version": version}
    device = {"identifiers": ["sl"], "name": "smartload", "manufacturer": "smartload", "model": "charge planner",
              "sw_version": version, "configuration_url": "http://127.0.0.1:8099/"}

    def entity(component: str, object_id: str, name: str, **fields: Any) -> dict[str, Any]:
        return {"name": name, "unique_id": f"sl_{object_id}", "default_entity_id": f"{component}.sl_{object_id}",
                "device": device, **AVAILABILITY, "origin": origin, **fields}

    return {
        "homeassistant/sensor/sl/plan_cost/config": entity(
            "sensor", "plan_cost", "Plan cost", state_topic="smartload/plan",
            value_template="{{ value_json.cost_eur }}", unit_of_measurement="EUR", device_class="monetary"),
        "homeassistant/sensor/sl/plan_status/config": entity(
            "sensor", "plan_status", "Plan status", state_topic="smartload/plan",
            value_template="{{ value_json.status }}", entity_category="diagnostic"),
        "homeassistant/sensor/sl/next_handoff/config": entity(
            "sensor", "next_handoff", "Next handoff", state_topic="smartload/state",
            value_template="{{ value_json.handoff or 'none' }}", json_attributes_topic="smartload/state",
            json_attributes_template="{{ {'vehicle': value_json.handoff_vehicle, 'by': value_json.handoff_by}"
                                     " | tojson }}", entity_category="diagnostic"),
        "homeassistant/binary_sensor/sl/evcc_reachable/config": entity(
            "binary_sensor", "evcc_reachable", "evcc reachable", state_topic="smartload/state",
            value_template="{{ 'ON' if value_json.evcc_reachable else 'OFF' }}", device_class="connectivity",
            entity_category="diagnostic"),
    }


def expected_zoe(version: str) -> dict[str, dict[str, Any]]:
    origin = {"name": "smartload", "sw_version": version}
    device = {"identifiers": ["sl_zoe"], "name": "Renault Zoe", "via_device": "sl", "manufacturer": "Renault",
              "model": "Zoe"}

    def entity(component: str, what: str, name: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        return (f"homeassistant/{component}/sl/zoe_{what}/config",
                {"name": name, "unique_id": f"sl_zoe_{what}", "default_entity_id": f"{component}.sl_zoe_{what}",
                 "device": device, **AVAILABILITY, "origin": origin, **fields})

    def shows(key: str) -> dict[str, str]:
        return {"state_topic": ZOE_STATE, "value_template": f"{{{{ value_json.{key} }}}}"}

    return dict([
        entity("sensor", "soc", "SoC", **shows("soc_pct"), unit_of_measurement="%", device_class="battery",
               state_class="measurement"),
        entity("sensor", "soc_age", "SoC age", **shows("soc_age_min"), unit_of_measurement="min",
               device_class="duration", state_class="measurement", entity_category="diagnostic"),
        entity("sensor", "soc_measured_at", "SoC measured", **shows("soc_measured_at"), device_class="timestamp",
               entity_category="diagnostic"),
        entity("sensor", "target", "Target SoC", **shows("target_soc_pct"), unit_of_measurement="%",
               state_class="measurement"),
        entity("sensor", "departure", "Departure", **shows("departure"), device_class="timestamp"),
        entity("sensor", "projected_soc", "SoC at departure", **shows("projected_soc_pct"), unit_of_measurement="%",
               state_class="measurement"),
        entity("button", "boost", "Boost 45 min", command_topic="smartload/vehicle/zoe/boost/set",
               payload_press="PRESS"),
        entity("button", "refresh", "Refresh SoC", command_topic="smartload/vehicle/zoe/refresh/set",
               payload_press="PRESS"),
        entity("button", "cancel", "Cancel charge request", command_topic="smartload/vehicle/zoe/cancel/set",
               payload_press="PRESS"),
        entity("number", "target_soc", "Target SoC", command_topic="smartload/vehicle/zoe/target_soc/set",
               **shows("target_soc_pct"), min=10, max=100, step=5, unit_of_measurement="%", mode="slider"),
        entity("number", "manual_soc", "Enter SoC", command_topic="smartload/vehicle/zoe/soc/set",
               **shows("soc_pct"), min=0, max=100, step=1, unit_of_measurement="%", mode="box"),
        entity("time", "departure_time", "Departure time", command_topic="smartload/vehicle/zoe/departure/set",
               **shows("departure_local")),
    ])


def with_car_details(tmp_path, port: int, **mqtt: Any):
    config = bridge_settings(tmp_path, port, mqtt, web={"token": TOKEN, "port": 8099})
    vehicles = {**config.vehicles, "zoe": config.vehicles["zoe"].model_copy(
        update={"manufacturer": "Renault", "model": "Zoe"})}
    return config.model_copy(update={"vehicles": vehicles})


async def test_every_config_message_is_exactly_what_home_assistant_documents(tmp_path, broker_port,
                                                                              watcher: Watcher):
    version = __version__  # the package's one version (pyproject.toml reads it)
    async with AsyncExitStack() as stack:
        await start_bridge(with_car_details(tmp_path, broker_port), stack)
        await watcher.until(lambda: len(config_topics(watcher)) == 4 + 2 * 12, "28 config messages")
        seen = {t: json.loads(p) for t, p in config_topics(watcher).items()}
        assert {t: p for t, p in seen.items() if "/sl/zoe_" not in t and "/sl/ioniq_" not in t} == \
            expected_site(version)
        assert {t: p for t, p in seen.items() if "/sl/zoe_" in t} == expected_zoe(version)
        # A car without manufacturer or model has no such keys (Home Assistant refuses nulls).
        assert seen["homeassistant/sensor/sl/ioniq_soc/config"]["device"] == {
            "identifiers": ["sl_ioniq"], "name": "Hyundai Ioniq 5", "via_device": "sl"}
        assert sorted(t.split("/")[-2] for t in seen if "/sl/ioniq_" in t) == sorted(
            t.split("/")[-2].replace("zoe_", "ioniq_") for t in expected_zoe(version))


async def test_a_unique_id_prefix_of_its_own_leaves_the_client_id_alone(tmp_path, broker_port, watcher: Watcher):
    async with AsyncExitStack() as stack:
        _, bridge = await start_bridge(with_car_details(tmp_path, broker_port, unique_id_prefix="house"), stack)
        await watcher.until(lambda: len(config_topics(watcher)) == 28, "28 config messages")
        soc = json.loads(watcher.last("homeassistant/sensor/house/zoe_soc/config"))
        assert (soc["unique_id"], soc["default_entity_id"], soc["device"]["identifiers"], soc["device"]["via_device"]) \
            == ("house_zoe_soc", "sensor.house_zoe_soc", ["house_zoe"], "house")
        cost = json.loads(watcher.last("homeassistant/sensor/house/plan_cost/config"))
        assert (cost["unique_id"], cost["device"]["identifiers"]) == ("house_plan_cost", ["house"])
        assert all(t.split("/")[2] == "house" for t in config_topics(watcher))
        assert bridge._client is not None and bridge._client.identifier == "sl"


async def retained(port: int, pattern: str) -> dict[str, str]:
    """The retained messages on the broker now: mosquitto sends them as it takes the
    subscription, before it reads the client's next packet, so a message to a marker topic
    published after subscribing arrives after the last of them."""
    async with aiomqtt.Client("127.0.0.1", port, identifier="reader") as client:
        await client.subscribe(pattern, qos=1)
        await client.subscribe("marker/end", qos=1)
        await client.publish("marker/end", "end", qos=1)
        found: dict[str, str] = {}
        async with asyncio.timeout(5):
            async for message in client.messages:
                if str(message.topic) == "marker/end":
                    return found
                found[str(message.topic)] = message.payload.decode()
    raise AssertionError("no marker")


async def test_configs_of_removed_cars_and_retired_entities_are_cleared(tmp_path, broker_port, watcher: Watcher):
    stale = {
        # A car taken out of the settings, and the half-hour select older versions announced.
        "homeassistant/sensor/sl/golf_soc/config": json.dumps({"name": "SoC", "unique_id": "sl_golf_soc"}),
        "homeassistant/button/sl/golf_boost/config": json.dumps({"name": "Boost", "unique_id": "sl_golf_boost"}),
        "homeassistant/select/sl/zoe_departure_time/config": json.dumps({"name": "Departure time"}),
    }
    foreign = {"homeassistant/sensor/other/golf_soc/config": json.dumps({"name": "someone else's"}),
               "homeassistant/sensor/sl/extra/state": "not a config"}
    async with aiomqtt.Client("127.0.0.1", broker_port, identifier="older-smartload") as older:
        for topic, payload in {**stale, **foreign}.items():
            await older.publish(topic, payload, qos=1, retain=True)
    async with AsyncExitStack() as stack:
        await start_bridge(with_car_details(tmp_path, broker_port), stack)
        await watcher.until(lambda: all(watcher.last(t) == "" for t in stale), "the stale configs cleared")
        left = await retained(broker_port, "homeassistant/#")
        ours = {t for t in left if t.split("/")[2] == "sl" and t.endswith("/config")}
        assert ours == set(expected_site(__version__)) | set(expected_zoe(__version__)) | {
            t.replace("/sl/zoe_", "/sl/ioniq_") for t in expected_zoe(__version__)}
        assert {t: left[t] for t in foreign} == foreign
        # Each stale one was cleared once; the configured ones never.
        assert {t: watcher.seen[t] for t in stale} == {t: [p, ""] for t, p in stale.items()}
        assert "" not in watcher.seen["homeassistant/sensor/sl/zoe_soc/config"]


async def test_the_data_directory_remembers_what_to_clear_after_the_prefix_changes(tmp_path, broker_port,
                                                                                   watcher: Watcher):
    record = tmp_path / "homeassistant_configs.json"
    async with AsyncExitStack() as stack:
        await start_bridge(with_car_details(tmp_path, broker_port), stack)
        await watcher.until(lambda: len(config_topics(watcher)) == 28, "28 config messages")
    first = set(config_topics(watcher))
    assert json.loads(record.read_text()) == {"topics": sorted(first)}

    # A prefix of its own: no wildcard of the new node finds the old configs, the record does.
    async with AsyncExitStack() as stack:
        await start_bridge(with_car_details(tmp_path, broker_port, unique_id_prefix="house"), stack)
        second = {t.replace("/sl/", "/house/") for t in first}
        await watcher.until(lambda: all(watcher.last(t) == "" for t in first) and all(map(watcher.last, second)),
                            "the old node's configs cleared, the new ones there")
        left = await retained(broker_port, "homeassistant/#")
    assert set(left) == second
    assert json.loads(record.read_text()) == {"topics": sorted(second)}

    # Discovery turned off: nothing announced, and nothing left behind.
    async with AsyncExitStack() as stack:
        _, bridge = await start_bridge(with_car_details(tmp_path, broker_port, discovery=False), stack)
        await bridge.connected.wait()
        await watcher.until(lambda: all(watcher.last(t) == "" for t in second), "the configs cleared")
        assert await retained(broker_port, "homeassistant/#") == {}
    assert json.loads(record.read_text()) == {"topics": []}
