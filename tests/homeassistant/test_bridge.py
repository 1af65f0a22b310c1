"""MQTT for Home Assistant against a real mosquitto: discovery, state, commands, the last
will and the reconnect."""

from __future__ import annotations

import json
import socket
from contextlib import AsyncExitStack
from datetime import timedelta

import aiomqtt

from smartload.homeassistant import start_mqtt
from tests.homeassistant.conftest import Watcher
from tests.web.builders import NOW, make_parts, plan, settings, site_state, zoe_reading


def config(tmp_path, port: int):
    return settings(tmp_path, mqtt={"host": "127.0.0.1", "port": port, "client_id": "sl", "boost_minutes": 45})


async def started(tmp_path, port: int, stack: AsyncExitStack):
    parts = make_parts(config(tmp_path, port))
    stack.callback(parts.close)
    parts.push_state(site_state())
    parts.push_socs(zoe_reading())
    parts.push_plan(plan())
    bridge = await start_mqtt(parts.system, stack)
    return parts, bridge


async def test_discovery_and_state_are_retained_for_home_assistant(tmp_path, broker_port, watcher: Watcher):
    async with AsyncExitStack() as stack:
        await started(tmp_path, broker_port, stack)
        def configs() -> list[str]:
            return [t for t in watcher.seen if t.startswith("homeassistant/") and t.endswith("/config")]

        await watcher.until(lambda: len(configs()) == 4 + 2 * 9 and watcher.last("smartload/vehicle/ioniq/state"),
                            "discovery and state")
        availability = {"availability_topic": "smartload/status", "payload_available": "online",
                        "payload_not_available": "offline"}
        zoe_device = {"identifiers": ["sl_zoe"], "name": "Renault Zoe", "via_device": "sl"}
        assert json.loads(watcher.last("homeassistant/sensor/sl/zoe_soc/config")) == {
            "name": "SoC", "unique_id": "sl_zoe_soc", "default_entity_id": "sensor.sl_zoe_soc", "device": zoe_device,
            **availability, "state_topic": "smartload/vehicle/zoe/state", "value_template": "{{ value_json.soc_pct }}",
            "unit_of_measurement": "%", "device_class": "battery", "state_class": "measurement"}
        number = json.loads(watcher.last("homeassistant/number/sl/zoe_target_soc/config"))
        assert (number["command_topic"], number["min"], number["max"], number["step"]) == (
            "smartload/vehicle/zoe/target_soc/set", 10, 100, 5)
        select = json.loads(watcher.last("homeassistant/select/sl/zoe_departure_time/config"))
        assert (select["command_topic"], select["options"][14], len(select["options"])) == (
            "smartload/vehicle/zoe/departure/set", "07:00", 48)
        button = json.loads(watcher.last("homeassistant/button/sl/zoe_boost/config"))
        assert (button["name"], button["payload_press"]) == ("Boost 45 min", "PRESS")
        handoff = json.loads(watcher.last("homeassistant/sensor/sl/next_handoff/config"))
        assert (handoff["device"]["identifiers"], handoff["state_topic"]) == (["sl"], "smartload/state")
        for entity in ("soc", "soc_age", "target", "departure", "projected_soc"):
            assert watcher.last(f"homeassistant/sensor/sl/zoe_{entity}/config") is not None

        assert watcher.last("smartload/status") == "online"
        assert json.loads(watcher.last("smartload/vehicle/zoe/state")) == {
            "soc_pct": 45.0, "soc_source": "zoe-cloud", "soc_measured_at": "2026-03-02T18:50:00Z", "soc_age_min": 10,
            "target_soc_pct": 80.0, "departure": "2026-03-03T06:00:00Z", "departure_local": "07:00",
            "request_source": "default", "projected_soc_pct": 55.0, "shortfall_kwh": 13.0, "plugged": True,
            "boost_until": None}
        assert json.loads(watcher.last("smartload/plan")) == {
            "status": "optimal", "created_at": "2026-03-02T19:00:00Z", "cost_eur": 1.96, "solve_time_s": 0.042,
            "horizon_end": "2026-03-02T20:00:00Z",
            "cars": {"zoe": {"projected_soc_pct": 55.0, "shortfall_kwh": 13.0, "energy_kwh": 5.5, "cost_eur": 1.51},
                     "ioniq": {"projected_soc_pct": 20.0, "shortfall_kwh": 46.2, "energy_kwh": 0.0, "cost_eur": 0.0}}}
        site = json.loads(watcher.last("smartload/state"))
        assert (site["evcc_reachable"], site["plan_status"], site["handoff"]) == (True, "optimal", None)
    # A clean stop says offline itself.
    await watcher.until(lambda: watcher.last("smartload/status") == "offline", "offline after the stop")


async def test_commands_on_set_topics_reach_the_controls(tmp_path, broker_port, watcher: Watcher):
    async with AsyncExitStack() as stack:
        parts, bridge = await started(tmp_path, broker_port, stack)
        await bridge.connected.wait()
        async with aiomqtt.Client("127.0.0.1", broker_port, identifier="home-assistant") as ha:
            await ha.publish("smartload/vehicle/zoe/target_soc/set", "90", qos=1)
            await watcher.until(lambda: '"target_soc_pct":90.0' in (watcher.last("smartload/vehicle/zoe/state") or ""),
                                "the new target in zoe's state")
            [request] = parts.store.open_requests().values()
            # The departure stays the one in force (the default: Tuesday 07:00 in Berlin).
            assert (request.vehicle, request.target_soc_pct, request.departure, request.source) == (
                "zoe", 90.0, NOW.replace(day=3, hour=6), "mqtt")

            await ha.publish("smartload/vehicle/zoe/departure/set", "06:30", qos=1)
            await watcher.until(lambda: '"departure_local":"06:30"' in watcher.last("smartload/vehicle/zoe/state"),
                                "the new departure")
            request = parts.store.open_requests()["zoe"]
            assert (request.target_soc_pct, request.departure) == (90.0, NOW.replace(day=3, hour=5, minute=30))

            await ha.publish("smartload/vehicle/zoe/boost/set", "PRESS", qos=1)
            await watcher.until(lambda: '"boost_until":"2026-03-02T19:45:00Z"' in
                                watcher.last("smartload/vehicle/zoe/state"), "the boost")
            assert parts.system.planning.sequencer.boosts(NOW) == {"zoe": NOW + timedelta(minutes=45)}

            await ha.publish("smartload/vehicle/zoe/soc/set", "lots", qos=1)
            await ha.publish("smartload/vehicle/golf/boost/set", "PRESS", qos=1)
            await watcher.until(lambda: len(watcher.seen.get("smartload/error", [])) == 2, "two refusals")
            assert [json.loads(e) for e in watcher.seen["smartload/error"]] == [
                {"topic": "smartload/vehicle/zoe/soc/set", "error": "soc_pct: not a number: 'lots'"},
                {"topic": "smartload/vehicle/golf/boost/set", "error": "vehicle: unknown vehicle 'golf'"}]


async def test_a_lost_connection_fires_the_last_will_and_the_bridge_comes_back(tmp_path, broker_port,
                                                                               watcher: Watcher):
    async with AsyncExitStack() as stack:
        parts, bridge = await started(tmp_path, broker_port, stack)
        await bridge.connected.wait()
        await watcher.until(lambda: watcher.last("smartload/status") == "online", "online")
        before = len(watcher.seen["smartload/status"])
        # The network drops: no DISCONNECT reaches the broker, so it publishes the will.
        bridge._client._client.socket().shutdown(socket.SHUT_RDWR)
        await watcher.until(lambda: watcher.seen["smartload/status"][before:][:1] == ["offline"], "the last will")
        await watcher.until(lambda: watcher.seen["smartload/status"][before + 1:][:1] == ["online"], "the reconnect")
        # Back with state to publish: a new plan reaches the broker.
        parts.push_plan(plan(NOW + timedelta(minutes=15)))
        await watcher.until(lambda: '"created_at":"2026-03-02T19:15:00Z"' in watcher.last("smartload/plan"),
                            "the plan after the reconnect")
