"""A real mosquitto per test on a free port, a watching client, and a bridge started on a
System the test drives."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from smartload.homeassistant import MqttBridge, start_mqtt
from smartload.settings import Settings
from tests.web.builders import Parts, make_parts, plan, settings, site_state, zoe_reading

MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def broker_port(tmp_path: Path) -> AsyncIterator[int]:
    if MOSQUITTO is None:
        pytest.fail("these tests start a mosquitto broker, which is not installed (apt-get install -y mosquitto)")
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = asyncio.get_running_loop().time() + 10
    while True:  # until it accepts connections
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            break
        except OSError:
            if process.poll() is not None or asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"mosquitto did not start: {process.stderr.read()!r}") from None
            await asyncio.sleep(0.02)
    yield port
    process.terminate()
    process.communicate(timeout=10)


class Watcher:
    """Subscribes to everything and keeps each topic's payloads in order."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.seen: dict[str, list[str]] = {}
        self._changed = asyncio.Event()

    async def run(self) -> None:
        async for message in self.client.messages:
            payload = message.payload.decode() if isinstance(message.payload, bytes) else str(message.payload)
            self.seen.setdefault(str(message.topic), []).append(payload)
            self._changed.set()

    def last(self, topic: str) -> str | None:
        values = self.seen.get(topic)
        return values[-1] if values else None

    async def until(self, condition: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), timeout_s)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None


@pytest.fixture
async def watcher(broker_port: int) -> AsyncIterator[Watcher]:
    async with aiomqtt.Client("127.0.0.1", broker_port, identifier="watcher") as client:
        await client.subscribe("#", qos=1)
        watching = Watcher(client)
        task = asyncio.create_task(watching.run())
        yield watching
        task.cancel()


def bridge_settings(tmp_path: Path, port: int, mqtt: dict[str, Any] | None = None, **extra: Any) -> Settings:
    """The web builders' settings (zoe, ioniq) with MQTT on the test's broker as client "sl"."""
    return settings(tmp_path, mqtt={"host": "127.0.0.1", "port": port, "client_id": "sl", "boost_minutes": 45,
                                    **(mqtt or {})}, **extra)


async def start_bridge(config: Settings, stack: AsyncExitStack) -> tuple[Parts, MqttBridge]:
    """A bridge on a System with zoe charging at 45 % (read 10 min ago) and a plan."""
    parts = make_parts(config)
    stack.callback(parts.close)
    parts.push_state(site_state())
    parts.push_socs(zoe_reading())
    parts.push_plan(plan())
    bridge = await start_mqtt(parts.system, stack)
    return parts, bridge
