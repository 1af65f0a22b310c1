"""The MQTT connection: availability with a last will, retained discovery and state,
commands in. Reconnects with backoff; a broker that is down never stops the service.

A config message that is retained on the broker but no longer published (a car taken out
of the settings, an entity an older version had) is cleared with an empty retained message,
so Home Assistant removes the entity. Two ways find them: the broker hands over every
retained one of this node when the bridge subscribes (whenever that is), and the data
directory keeps the topics announced last (published.py), which finds those of another node
or discovery prefix too."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from datetime import timedelta
from typing import Any

import aiomqtt
import reactivex
from loguru import logger
from reactivex.abc import DisposableBase
from reactivex.disposable import CompositeDisposable

from smartload.backoff import backoff_delay
from smartload.homeassistant.commands import CommandError, apply_command
from smartload.homeassistant.discovery import Topics, discovery_messages
from smartload.homeassistant.payloads import plan_payload, site_payload, vehicle_payloads
from smartload.homeassistant.published import PublishedConfigs
from smartload.settings.mqtt import MqttBridgeSettings
from smartload.sinks.base import guarded
from smartload.system import System

log = logger.bind(component="mqtt")
FIRST_RETRY_S = 0.5
# States are published again this often (only those that changed), so that an age in
# minutes moves on while nothing else happens (evcc unreachable, no plan).
REPUBLISH = timedelta(minutes=1)


def _dump(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)


class MqttBridge:
    def __init__(self, system: System, settings: MqttBridgeSettings) -> None:
        self._system = system
        self._settings = settings
        self.topics = Topics(settings)
        self._dirty = asyncio.Event()
        self._sent: dict[str, str] = {}  # topic -> payload last published (publish changes only)
        self._client: aiomqtt.Client | None = None
        self._configs = {topic: _dump(payload) for topic, payload in self._discovery()}
        self._published = PublishedConfigs(system.settings.data_dir)
        self.connected = asyncio.Event()

    # -- wiring -------------------------------------------------------------------------

    def attach(self) -> DisposableBase:
        system, mark = self._system, guarded("mqtt", lambda _: self._dirty.set())

        scheduler = system.scheduler
        return CompositeDisposable(
            system.plans.subscribe(mark),
            system.graph.states.subscribe(mark, scheduler=scheduler),
            system.graph.socs.subscribe(mark, scheduler=scheduler),
            system.graph.errors.subscribe(mark, scheduler=scheduler),
            system.bus.stream.subscribe(mark, scheduler=scheduler),
            reactivex.interval(REPUBLISH).subscribe(mark, scheduler=scheduler),
        )

    def _discovery(self) -> list[tuple[str, Any]]:
        if not self._settings.discovery:
            return []
        return discovery_messages(self._system.settings, self._settings)

    def _client_for(self) -> aiomqtt.Client:
        s = self._settings
        return aiomqtt.Client(
            s.host or "localhost", s.port, identifier=s.client_id, username=s.username,
            password=s.password.get_secret_value() if s.password else None,
            will=aiomqtt.Will(self.topics.status, "offline", qos=1, retain=True),
            tls_context=ssl.create_default_context() if s.tls else None,
        )

    # -- running ------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, and reconnect after a lost connection, until cancelled."""
        delay, retries = FIRST_RETRY_S, 1
        while True:
            try:
                async with self._client_for() as client:
                    self._client = client
                    delay, retries = FIRST_RETRY_S, 1
                    await self._serve(client)
            except aiomqtt.MqttError as exc:
                log.warning("MQTT broker {}:{}: {}; retrying in {:.0f} s", self._settings.host, self._settings.port,
                            exc, delay)
            finally:
                self._client = None
                self.connected.clear()
            await asyncio.sleep(delay)
            retries += 1
            delay = backoff_delay(timedelta(seconds=FIRST_RETRY_S), self._settings.reconnect_max,
                                  retries).total_seconds()

    async def _serve(self, client: aiomqtt.Client) -> None:
        await client.publish(self.topics.status, "online", qos=1, retain=True)
        await client.subscribe(self.topics.commands, qos=1)
        await client.subscribe(self.topics.ha_status, qos=1)
        self._sent.clear()
        await self._announce(client)
        if self._settings.discovery:
            await client.subscribe(self.topics.configs, qos=1)
        self.connected.set()
        log.info("MQTT connected to {}:{} as {}", self._settings.host, self._settings.port, self._settings.client_id)
        publisher = asyncio.create_task(self._publish_loop(client))
        try:
            async for message in client.messages:
                await self._on_message(client, str(message.topic), message.payload)
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher

    async def _announce(self, client: aiomqtt.Client) -> None:
        for topic in sorted(self._published.load() - self._configs.keys()):
            await self._clear(client, topic)
        for topic, text in self._configs.items():
            await client.publish(topic, text, qos=1, retain=True)
        # Only once all went out: a connection lost on the way repeats it all next time.
        self._published.save(set(self._configs))
        await self._publish_states(client)

    async def _publish_loop(self, client: aiomqtt.Client) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await self._publish_states(client)

    async def _publish_states(self, client: aiomqtt.Client) -> None:
        system = self._system
        messages = {self.topics.state: site_payload(system), self.topics.plan: plan_payload(system.live.plan)}
        messages.update({self.topics.vehicle(v): p for v, p in vehicle_payloads(system).items()})
        for topic, payload in messages.items():
            if payload is None:
                continue
            text = _dump(payload)
            if self._sent.get(topic) != text:
                await client.publish(topic, text, qos=0, retain=True)
                self._sent[topic] = text

    async def _on_message(self, client: aiomqtt.Client, topic: str, raw: Any) -> None:
        payload = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else str(raw or "")
        if topic == self.topics.ha_status:
            if payload == "online":  # Home Assistant restarted: it needs discovery and states again
                self._sent.clear()
                await self._announce(client)
            return
        if self.topics.is_config(topic):
            if payload and topic not in self._configs:
                await self._clear(client, topic)
            return
        parsed = self.topics.parse_command(topic)
        if parsed is None:
            return
        vehicle, command = parsed
        try:
            done = apply_command(self._system, vehicle, command, payload, self._settings.boost_minutes)
        except CommandError as exc:
            log.warning("MQTT command {} {!r} refused: {}", topic, payload, exc)
            await client.publish(self.topics.error, _dump({"topic": topic, "error": str(exc)}), qos=1)
            return
        log.info("MQTT command: {}", done)
        self._dirty.set()

    async def _clear(self, client: aiomqtt.Client, topic: str) -> None:
        await client.publish(topic, b"", qos=1, retain=True)
        log.info("removed the retired Home Assistant entity of {}", topic)

    async def close(self) -> None:
        """Say goodbye on a clean shutdown (the will covers the unclean ones)."""
        client = self._client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.publish(self.topics.status, "offline", qos=1, retain=True)
