"""Notifications (ntfy, webhook, Telegram): handoffs, targets at risk, evcc unreachable."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import datetime

import httpx
from loguru import logger
from reactivex import operators as ops
from reactivex.abc import DisposableBase
from reactivex.disposable import CompositeDisposable

from smartload.domain import PollError, SiteState
from smartload.notify.channels import Channel, channels, deliver
from smartload.notify.rules import Alerts, Message
from smartload.sinks.base import guarded
from smartload.sinks.planning import PlanMade
from smartload.sinks.sequencer import Handoff
from smartload.system import System
from smartload.views import wallbox_name

__all__ = ["Alerts", "Message", "Notifier", "start_notify"]


class Notifier:
    def __init__(self, system: System, client: httpx.AsyncClient, targets: list[Channel]) -> None:
        settings = system.settings
        self._system = system
        self._client = client
        self._channels = targets
        self.alerts = Alerts(settings.notify, settings.site.tz,
                             {v: c.title or v for v, c in settings.vehicles.items()})
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent: list[Message] = []

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self._channels]

    def send(self, messages: list[Message]) -> None:
        for message in messages:
            self.sent.append(message)
            logger.info("notify: {}: {}", message.title, message.text)
            for channel in self._channels:
                task = asyncio.get_running_loop().create_task(self._deliver(channel, message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, channel: Channel, message: Message) -> None:
        problem = await deliver(self._client, channel, message)
        if problem is not None:
            logger.warning("notify: could not send {!r}: {}", message.title, problem)

    def attach(self) -> DisposableBase:
        system, alerts = self._system, self.alerts

        def handoff(h: Handoff) -> None:
            self.send(alerts.handoff(h, wallbox_name(system.live.state, h.wallbox_id)))

        def plan(made: PlanMade) -> None:
            self.send(alerts.plan(made.plan, made.snapshot.at))

        def unreachable(e: PollError) -> bool:
            return e.kind != "parse"

        def down_at(e: PollError) -> tuple[datetime, bool]:
            return (e.at, False)

        def up_at(s: SiteState) -> tuple[datetime, bool]:
            return (s.at, True)

        def reach(pair: tuple[datetime, bool]) -> None:
            self.send(alerts.evcc(*pair))

        on_handoff = guarded("notify", handoff)
        on_plan = guarded("notify", plan)
        graph, scheduler = system.graph, system.scheduler
        down = graph.errors.pipe(ops.filter(unreachable), ops.map(down_at))
        up = graph.states.pipe(ops.map(up_at))
        on_reach = guarded("notify", reach)
        return CompositeDisposable(
            system.handoffs.subscribe(on_handoff),
            system.plans.subscribe(on_plan),
            down.subscribe(on_reach, scheduler=scheduler),
            up.subscribe(on_reach, scheduler=scheduler),
        )

    async def aclose(self) -> None:
        """Let messages on their way arrive (bounded by the client's timeout)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def start_notify(system: System, stack: AsyncExitStack) -> Notifier:
    settings = system.settings.notify
    client = await stack.enter_async_context(httpx.AsyncClient(timeout=settings.timeout.total_seconds()))
    notifier = Notifier(system, client, channels(settings))
    stack.push_async_callback(notifier.aclose)
    stack.callback(notifier.attach().dispose)
    logger.info("notifications on: {}", ", ".join(notifier.channel_names))
    return notifier
