"""MQTT for Home Assistant against a real mosquitto: state, commands, the last will and the
reconnect (discovery: test_discovery.py)."""

from __future__ import annotations

import json
import socket
from contextlib import AsyncExitStack
from datetime import timedelta

import aiomqtt

from tests.homeassistant.conftest import Watcher, bridge_settings, start_bridge
from tests.web.builders import NOW, plan


async def started(tmp_path, port: int, stack: AsyncExitStack):
    return await start_bridge(bridge_settings(tmp_path, port), stack)


async def test_state_is_retained_for_home_assistant(tmp_path, broker_port, watcher: Watcher):
    async with AsyncExitStack() as stack:
        await started(tmp_path, broker_port, stack)
        await watcher.until(lambda: watcher.last("smartload/vehicle/ioniq/state"), "the state")
        # Discovery itself: test_discovery.py.
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


async def test_the_soc_age_moves_on_each_minute_with_nothing_else_happening(tmp_path, broker_port,
                                                                             watcher: Watcher):
    async with AsyncExitStack() as stack:
        parts, bridge = await started(tmp_path, broker_port, stack)
        await bridge.connected.wait()
        topic = "smartload/vehicle/zoe/state"
        await watcher.until(lambda: watcher.last(topic) is not None, "zoe's state")
        ages = lambda: [json.loads(p)["soc_age_min"] for p in watcher.seen[topic]]  # noqa: E731
        assert ages() == [10]
        parts.advance(seconds=59)  # not a minute yet: nothing new to say
        parts.advance(seconds=1)
        await watcher.until(lambda: ages() == [10, 11], "the age a minute later")
        parts.advance(minutes=2)  # both minutes at once: the publisher sends the latest only
        await watcher.until(lambda: ages() == [10, 11, 13], "two more minutes")
        last = json.loads(watcher.last(topic))
        # The reading itself is the same: its time stays, only its age grows.
        assert (last["soc_pct"], last["soc_measured_at"]) == (45.0, "2026-03-02T18:50:00Z")


async def test_cancel_button_manual_soc_and_any_departure_time_round_trip(tmp_path, broker_port, watcher: Watcher):
    async with AsyncExitStack() as stack:
        parts, bridge = await started(tmp_path, broker_port, stack)
        await bridge.connected.wait()
        entered = []
        stack.callback(parts.system.controls.manual_socs.subscribe(entered.append).dispose)
        await watcher.until(lambda: watcher.last("smartload/vehicle/zoe/state") is not None, "zoe's state")
        state = lambda: json.loads(watcher.last("smartload/vehicle/zoe/state"))  # noqa: E731
        async with aiomqtt.Client("127.0.0.1", broker_port, identifier="home-assistant") as ha:
            # What Home Assistant's time entity sends for 07:15: a quarter past, not a half hour.
            await ha.publish("smartload/vehicle/zoe/departure/set", "07:15:00", qos=1)
            await watcher.until(lambda: state()["departure_local"] == "07:15", "the departure at 07:15")
            request = parts.store.open_requests()["zoe"]
            assert (request.departure, request.target_soc_pct, request.source) == (
                NOW.replace(day=3, hour=6, minute=15), 80.0, "mqtt")
            assert (state()["departure"], state()["request_source"]) == ("2026-03-03T06:15:00Z", "mqtt")
            await ha.publish("smartload/vehicle/zoe/departure/set", "6:05", qos=1)
            await watcher.until(lambda: state()["departure_local"] == "06:05", "the departure at 06:05")
            assert parts.store.open_requests()["zoe"].departure == NOW.replace(day=3, hour=5, minute=5)

            # The cancel button ends the request as DELETE /api/vehicles/zoe/request does:
            # the settings' default (Tuesday 07:00) is back in force.
            await ha.publish("smartload/vehicle/zoe/cancel/set", "PRESS", qos=1)
            await watcher.until(lambda: state()["request_source"] == "default", "the default again")
            assert parts.store.open_requests() == {}
            assert (state()["departure_local"], state()["target_soc_pct"]) == ("07:00", 80.0)

            # The SoC number enters a reading as POST /api/vehicles/zoe/soc does.
            await ha.publish("smartload/vehicle/zoe/soc/set", "63", qos=1)
            await ha.publish("smartload/vehicle/zoe/soc/set", "101", qos=1)
            await ha.publish("smartload/vehicle/zoe/departure/set", "25:00:00", qos=1)
            await watcher.until(lambda: len(watcher.seen.get("smartload/error", [])) == 2, "two refusals")
            assert [(r.vehicle, r.soc_pct, r.source, r.measured_at, r.received_at) for r in entered] == [
                ("zoe", 63.0, "manual", NOW, NOW)]
            assert [json.loads(e) for e in watcher.seen["smartload/error"]] == [
                {"topic": "smartload/vehicle/zoe/soc/set", "error": "soc_pct: must be between 0 and 100"},
                {"topic": "smartload/vehicle/zoe/departure/set",
                 "error": "departure: must be an RFC 3339 time or HH:MM"}]
