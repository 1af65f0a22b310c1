"""Against a real mosquitto broker started per test on a free port."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiomqtt
import pytest
from loguru import logger
from pydantic import TypeAdapter, ValidationError

from smartload.settings.providers import MqttSettings
from smartload.vehicles.base import ProviderUnsupported
from smartload.vehicles.mqtt import MqttProvider, build

BERLIN = ZoneInfo("Europe/Berlin")
TOPIC = "home/cars/zoe/soc"
MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Broker:
    def __init__(self, binary: str, directory: Path) -> None:
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self._process = subprocess.Popen(
            [self._binary, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = asyncio.get_running_loop().time() + 10
        while True:  # poll the subprocess's port until it accepts connections
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                await writer.wait_closed()
                return
            except OSError:
                if self._process.poll() is not None or asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"mosquitto did not start: {self._process.stderr.read()!r}") from None
                await asyncio.sleep(0.02)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.communicate(timeout=10)
            self._process = None

    async def publish(self, payload: str, *, retain: bool = False, topic: str = TOPIC) -> None:
        async with aiomqtt.Client("127.0.0.1", self.port) as client:
            await client.publish(topic, payload, qos=1, retain=retain)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    if MOSQUITTO is None:
        pytest.fail("these tests start a mosquitto broker, which is not installed (apt-get install -y mosquitto)")
    server = Broker(MOSQUITTO, tmp_path)
    await server.start()
    yield server
    server.stop()


def settings(port: int, **fields: object) -> MqttSettings:
    return TypeAdapter(MqttSettings).validate_python(
        {"type": "mqtt", "host": "127.0.0.1", "port": port, "topic": TOPIC, **fields}
    )


async def until(provider: MqttProvider, condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.wait_for(provider.changed(), timeout=10)


@pytest.fixture
async def started() -> AsyncIterator[list[MqttProvider]]:
    providers: list[MqttProvider] = []
    yield providers
    for provider in providers:
        await provider.aclose()


async def subscribed(provider: MqttProvider, started: list[MqttProvider]) -> MqttProvider:
    started.append(provider)
    provider.start()
    await until(provider, lambda: provider.subscribed)
    return provider


async def test_plain_number_stamped_with_its_arrival(broker: Broker, clock, started) -> None:
    provider = await subscribed(build("zoe", settings(broker.port), tz=BERLIN, clock=clock), started)

    with pytest.raises(ProviderUnsupported, match=f"^mqtt: no SoC on {TOPIC} yet$"):
        await provider.fetch("zoe")
    await broker.publish("57.5")
    await until(provider, lambda: provider.last is not None)

    reading = await provider.fetch("zoe")
    assert (reading.vehicle, reading.soc_pct, reading.source) == ("zoe", 57.5, "mqtt")
    assert (reading.measured_at, reading.received_at, reading.measured_at_known) == (clock.now, clock.now, True)


async def test_json_payload_with_its_own_timestamp(broker: Broker, clock, started) -> None:
    config = settings(broker.port, soc_path="battery.soc", time_path=["battery.at"], source="home_assistant")
    provider = await subscribed(build("zoe", config, tz=BERLIN, clock=clock), started)

    await broker.publish('{"battery": {"soc": 61, "at": "2025-06-02T05:55:00Z"}}')
    await until(provider, lambda: provider.last is not None)

    reading = await provider.fetch("zoe")
    assert (reading.soc_pct, reading.source) == (61.0, "home_assistant")
    assert (reading.measured_at, reading.measured_at_known) == (datetime(2025, 6, 2, 5, 55, tzinfo=UTC), True)
    assert reading.age_s(clock.now) == 2 * 3600 + 5 * 60


async def test_retained_value_has_an_unknown_age_unless_it_carries_a_time(broker: Broker, clock, started) -> None:
    await broker.publish("44", retain=True)
    await broker.publish('{"soc": 45, "t": 1748840400}', retain=True, topic="home/cars/kona/soc")

    plain = await subscribed(build("zoe", settings(broker.port), tz=BERLIN, clock=clock), started)
    dated_config = settings(broker.port, topic="home/cars/kona/soc", soc_path="soc", time_path="t")
    dated = await subscribed(build("kona", dated_config, tz=BERLIN, clock=clock), started)
    await until(plain, lambda: plain.last is not None)
    await until(dated, lambda: dated.last is not None)

    assert plain.last is not None and dated.last is not None
    assert (plain.last.soc_pct, plain.last.measured_at, plain.last.measured_at_known) == (44.0, clock.now, False)
    assert (dated.last.soc_pct, dated.last.measured_at, dated.last.measured_at_known) == (
        45.0, datetime(2025, 6, 2, 5, 0, tzinfo=UTC), True)


async def test_bad_payload_keeps_the_last_good_value(broker: Broker, clock, started) -> None:
    provider = await subscribed(build("zoe", settings(broker.port), tz=BERLIN, clock=clock), started)
    await broker.publish("70")
    await until(provider, lambda: provider.last is not None)
    first = provider.last
    clock.advance(minutes=1)

    await broker.publish("unavailable")
    await until(provider, lambda: provider.last_error is not None)

    assert provider.last_error == f"bad payload on {TOPIC}: ValueError: not a number: 'unavailable'"
    assert await provider.fetch("zoe") == first


async def test_reconnects_after_the_broker_restarts(broker: Broker, clock, started) -> None:
    config = settings(broker.port, reconnect_initial=0.05, reconnect_max=0.2)
    provider = await subscribed(build("zoe", config, tz=BERLIN, clock=clock), started)
    await broker.publish("30")
    await until(provider, lambda: provider.last is not None)

    broker.stop()
    await until(provider, lambda: not provider.subscribed)
    await broker.start()
    await until(provider, lambda: provider.subscribed)
    clock.advance(minutes=10)
    await broker.publish("35")
    await until(provider, lambda: provider.last is not None and provider.last.soc_pct == 35.0)

    assert provider.last is not None and provider.last.received_at == clock.now


async def test_password_never_logged_when_the_broker_is_unreachable(clock, started) -> None:
    secret = "mqtt-secret-pw-123"
    lines: list[str] = []
    sink = logger.add(lines.append, level="TRACE", format="{message}")
    try:
        config = settings(free_port(), username="car", password=secret, reconnect_initial=0.05)
        provider = build("zoe", config, tz=BERLIN, clock=clock)
        started.append(provider)
        provider.start()
        await until(provider, lambda: provider.last_error is not None)
    finally:
        logger.remove(sink)
    assert lines and all(secret not in line for line in lines)
    assert secret not in repr(provider) and secret not in repr(config)
    assert lines[0].startswith(f"zoe: MQTT 127.0.0.1:{config.port} unavailable (")


def test_settings_validation() -> None:
    with pytest.raises(ValidationError) as bad:
        TypeAdapter(MqttSettings).validate_python({"type": "mqtt", "topic": "cars/#"})
    assert [e["loc"] for e in bad.value.errors()] == [("topic",)]
    with pytest.raises(ValidationError, match="time_path needs a JSON payload"):
        settings(1883, time_path="t")
    assert settings(1883, reconnect_max="1m").reconnect_max == timedelta(minutes=1)
