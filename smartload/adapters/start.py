"""Starts what the settings turn on, on top of a running service (its on_runtime hook)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smartload.adapters.backend import Backend
from smartload.store.history import HistoryStore
from smartload.store.recorder import attach_recorder

if TYPE_CHECKING:
    from smartload.homeassistant import MqttBridge
    from smartload.notify import Notifier
    from smartload.service import Runtime
    from smartload.web import WebServer

DB_FILE = "smartload.db"  # the request store's file: history sits beside the requests


@dataclass
class Adapters:
    backend: Backend
    web: WebServer | None = None
    mqtt: MqttBridge | None = None
    notify: Notifier | None = None


async def start_adapters(runtime: Runtime, stack: AsyncExitStack) -> None:
    """The service's on_runtime hook."""
    await open_adapters(runtime, stack)


async def open_adapters(runtime: Runtime, stack: AsyncExitStack) -> Adapters:
    """Start the history store and the adapters the settings turn on; they stop with `stack`."""
    settings = runtime.settings
    history = HistoryStore(settings.data_dir / DB_FILE, settings.store.retention_days)
    stack.callback(history.close)
    adapters = Adapters(Backend.from_runtime(runtime, history))
    live = runtime.live
    stack.callback(attach_recorder(history, runtime.graph, runtime.planning, runtime.bus, lambda: live.tariffs,
                                   runtime.scheduler).dispose)
    if settings.web.enabled:
        from smartload.web import start_web

        adapters.web = await start_web(adapters.backend, stack)
    if settings.mqtt.enabled:
        from smartload.homeassistant import start_mqtt

        adapters.mqtt = await start_mqtt(adapters.backend, stack)
    if settings.notify.enabled:
        from smartload.notify import start_notify

        adapters.notify = await start_notify(adapters.backend, stack)
    return adapters
