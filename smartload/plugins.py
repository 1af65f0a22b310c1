"""The adapters on top of a composed System, started as the settings turn them on: the
history recorder, the web server (API, dashboard, SSE), MQTT for Home Assistant and
notifications. Each takes the System and stops with the service's exit stack. Each
adapter's modules are imported when the settings turn it on, so that a service without
MQTT or notifications does not load them before its first poll."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smartload.history import attach_history
from smartload.system import System

if TYPE_CHECKING:
    from smartload.homeassistant import MqttBridge
    from smartload.notify import Notifier
    from smartload.web.server import WebServer


# Waits until evcc's first poll has its answer (or a bound): what the service hands its
# on_runtime hook, so an adapter can load its heavy part after the first poll.
FirstPoll = Callable[[], Awaitable[None]]


@dataclass
class Plugins:
    system: System
    web: WebServer | None = None
    mqtt: MqttBridge | None = None
    notify: Notifier | None = None


async def start_plugins(system: System, stack: AsyncExitStack, first_poll: FirstPoll) -> None:
    """The service's on_runtime hook."""
    await open_plugins(system, stack, first_poll)


async def open_plugins(system: System, stack: AsyncExitStack, first_poll: FirstPoll | None = None) -> Plugins:
    """Start the history recorder and the adapters the settings turn on. The web server
    serves after `first_poll` (if given): it is the one adapter slow to import."""
    settings = system.settings
    plugins = Plugins(system)
    stack.callback(attach_history(system).dispose)
    if settings.mqtt.enabled:
        from smartload.homeassistant import start_mqtt

        plugins.mqtt = await start_mqtt(system, stack)
    if settings.notify.enabled:
        from smartload.notify import start_notify

        plugins.notify = await start_notify(system, stack)
    if settings.web.enabled:  # last: it may wait for the first poll, the others must not miss it
        from smartload.web import start_web

        plugins.web = await start_web(system, stack, first_poll)
    return plugins
