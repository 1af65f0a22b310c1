"""MQTT for Home Assistant: discovery, state, commands, availability."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack

from smartload.homeassistant.bridge import MqttBridge
from smartload.system import System

__all__ = ["MqttBridge", "start_mqtt"]


async def start_mqtt(system: System, stack: AsyncExitStack) -> MqttBridge:
    bridge = MqttBridge(system, system.settings.mqtt)
    stack.callback(bridge.attach().dispose)
    task = asyncio.create_task(bridge.run(), name="mqtt")

    async def stop() -> None:
        await bridge.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)
    return bridge
