"""SoC from an MQTT topic (Home Assistant, evcc, a car integration, a script).

A background task stays subscribed and keeps the last value; `fetch` answers with it
and never calls anything, so no budget applies. A payload is a number, or JSON with a
path to the SoC and optionally to its timestamp. Without a timestamp the reading is as
old as the message's arrival; a retained message may be arbitrarily old, so its age is
marked unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from datetime import datetime, tzinfo

import reactivex as rx
from loguru import logger
from reactivex import Observable

from smartload.backoff import backoff_delay
from smartload.domain import SocReading
from smartload.settings.providers import MqttSettings
from smartload.vehicles.base import ProviderUnsupported
from smartload.vehicles.budget import utc_now
from smartload.vehicles.http_json import extract, parse_soc, parse_timestamp
from smartload.vehicles.secrets import Scrubber, reveal


class MqttProvider:
    def __init__(self, vehicle: str, spec: MqttSettings, tz: tzinfo, clock: Callable[[], datetime] = utc_now) -> None:
        self.name = spec.source
        self.vehicle = vehicle
        self._spec = spec
        self._tz = tz
        self._clock = clock
        self._scrub = Scrubber([spec.password])
        self.last: SocReading | None = None
        self._last_payload: bytes | None = None
        self.last_error: str | None = None
        self.subscribed = False
        self._task: asyncio.Task[None] | None = None
        self._changed: asyncio.Event | None = None

    def __repr__(self) -> str:
        return f"MqttProvider({self.vehicle!r}, {self._spec.host}:{self._spec.port} {self._spec.topic!r})"

    def fetch(self, vehicle: str) -> Observable[SocReading]:
        def answer(_: object) -> Observable[SocReading]:
            # Virtual-time replays run without an event loop; there is nothing to subscribe then.
            with contextlib.suppress(RuntimeError):
                self.start()
            if vehicle != self.vehicle:
                return rx.throw(ProviderUnsupported(f"{self.name} is configured for {self.vehicle}, not {vehicle}"))
            if self.last is None:
                return rx.throw(ProviderUnsupported(f"{self.name}: no SoC on {self._spec.topic} yet"))
            return rx.of(self.last)

        return rx.defer(answer)

    def start(self) -> None:
        """Subscribe in the background (idempotent; needs a running event loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"mqtt {self.vehicle}")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.subscribed = False

    def changed(self) -> Coroutine[object, object, bool]:
        """Wait for the next change of state: a message, a (re)subscription, an error. Not
        a coroutine function: the event exists from the call on, so a change that comes
        before the waiter first runs (asyncio.wait_for starts it a loop turn later) counts."""
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed.wait()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def _run(self) -> None:
        import aiomqtt

        spec = self._spec
        # The first retry waits reconnect_initial, each further one by backoff_delay.
        wait, retries = spec.reconnect_initial, 1
        while True:
            try:
                async with aiomqtt.Client(
                    spec.host,
                    spec.port,
                    username=spec.username,
                    password=reveal(spec.password) or None,
                    tls_params=aiomqtt.TLSParameters() if spec.tls else None,
                ) as client:
                    await client.subscribe(spec.topic, qos=1)
                    self.subscribed, wait, retries = True, spec.reconnect_initial, 1
                    logger.debug("{}: subscribed to {}", self.vehicle, spec.topic)
                    self._notify()
                    async for message in client.messages:
                        payload = message.payload
                        raw = payload if isinstance(payload, bytes) else str(payload).encode()
                        self.receive(raw, retained=bool(message.retain))
            except aiomqtt.MqttError as exc:
                self.subscribed = False
                self.last_error = self._scrub.describe(exc)
                logger.warning(
                    "{}: MQTT {}:{} unavailable ({}); retrying in {:.0f} s",
                    self.vehicle, spec.host, spec.port, self.last_error, wait.total_seconds(),
                )
                self._notify()
                await asyncio.sleep(wait.total_seconds())
                retries += 1
                wait = backoff_delay(spec.reconnect_initial, spec.reconnect_max, retries)

    def receive(self, payload: bytes, *, retained: bool) -> None:
        """Take one message; a bad payload is logged and the previous value kept."""
        arrived = self._clock()
        if not payload.strip():
            return
        if retained and payload == self._last_payload:
            # The broker re-sent what we already hold (after a reconnect): keep its time.
            return
        try:
            soc, measured_at = self._parse(payload)
        except (KeyError, ValueError) as exc:
            self.last_error = f"bad payload on {self._spec.topic}: {self._scrub.describe(exc)}"
            logger.warning("{}: {}", self.vehicle, self.last_error)
            self._notify()
            return
        known = measured_at is not None or not retained
        self.last = SocReading(self.vehicle, soc, self.name, measured_at or arrived, arrived, measured_at_known=known)
        self._last_payload = payload
        self.last_error = None
        self._notify()

    def _parse(self, payload: bytes) -> tuple[float, datetime | None]:
        text = payload.decode("utf-8", errors="replace").strip()
        if self._spec.soc_path is None:
            return parse_soc(json.loads(text) if text.startswith('"') else text), None
        data = json.loads(text)
        soc = parse_soc(extract(data, self._spec.soc_path))
        for path in self._spec.time_path:
            try:
                value = extract(data, path)
            except KeyError:
                continue
            if value not in (None, ""):
                return soc, parse_timestamp(value, self._tz)
        return soc, None


def build(vehicle: str, spec: MqttSettings, *, tz: tzinfo, clock: Callable[[], datetime] = utc_now) -> MqttProvider:
    """The subscription starts on `start()` or at the first fetch."""
    return MqttProvider(vehicle, spec, tz, clock)
