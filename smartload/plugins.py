"""The adapters on top of a composed System, started as the settings turn them on: the
history recorder, the web server (API, dashboard, SSE), MQTT for Home Assistant and
notifications. Each takes the System and stops with the service's exit stack. Each
adapter's modules are imported when the settings turn it on, so that a service without
MQTT or notifications does not load them before its first poll."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smartload.history import attach_history
from smartload.system import System

if TYPE_CHECKING:
    from smartload.homeassistant import MqttBridge
    from smartload.notify import Notifier
    from smartload.web import WebServer


@dataclass
class Plugins:
    system: System
    web: WebServer | None = None
    mqtt: MqttBridge | None = None
    notify: Notifier | None = None


async def start_plugins(system: System, stack: AsyncExitStack) -> None:
    """The service's on_runtime hook."""
    await open_plugins(system, stack)


async def open_plugins(system: System, stack: AsyncExitStack) -> Plugins:
    """Start the history recorder and the adapters the settings turn on."""
    settings = system.settings
    plugins = Plugins(system)
    stack.callback(attach_history(system).dispose)
    if settings.web.enabled:
        from smartload.web import start_web

        plugins.web = await start_web(system, stack)
    if settings.mqtt.enabled:
        from smartload.homeassistant import start_mqtt

        plugins.mqtt = await start_mqtt(system, stack)
    if settings.notify.enabled:
        from smartload.notify import start_notify

        plugins.notify = await start_notify(system, stack)
    return plugins
