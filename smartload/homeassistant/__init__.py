"""MQTT for Home Assistant: discovery, state, commands, availability."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack

from smartload.homeassistant.bridge import MqttBridge
from smartload.system import System

__all__ = ["MqttBridge", "cancel_until_done", "start_mqtt"]


# How long a stop waits before it cancels the bridge again (transport time, not the
# service's clock).
RECANCEL_S = 0.5


async def start_mqtt(system: System, stack: AsyncExitStack) -> MqttBridge:
    bridge = MqttBridge(system, system.settings.mqtt)
    stack.callback(bridge.attach().dispose)
    task = asyncio.create_task(bridge.run(), name="mqtt")

    async def stop() -> None:
        await bridge.close()
        await cancel_until_done(task)

    stack.push_async_callback(stop)
    return bridge


async def cancel_until_done(task: asyncio.Task[None]) -> None:
    """Cancel the task and wait for its end, cancelling again while it runs on: on Python
    3.11 a cancel that meets a publish's acknowledgement inside asyncio.wait_for is
    swallowed, and the bridge went on to serve messages, so a stop waited for ever."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_S)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
