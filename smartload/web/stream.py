"""Server-sent events: every browser gets the whole dashboard on connecting, then "live"
(site, cars, settings, health; at most one per `throttle_s` of wall time), "plan" on each
new plan and "event" for each entry of the event log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from reactivex.abc import DisposableBase
from reactivex.disposable import CompositeDisposable, Disposable
from starlette.requests import Request
from starlette.responses import StreamingResponse

from smartload.events import Event
from smartload.sinks.base import guarded
from smartload.system import System
from smartload.views import dashboard_view, event_view, live_view, plan_view

if TYPE_CHECKING:
    from smartload.planner import Plan

Message = tuple[str, str]


def sse(name: str, data: str) -> str:
    return f"event: {name}\ndata: {data}\n\n"


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class Hub:
    def __init__(self, system: System, throttle_s: float = 0.5, queue_size: int = 64) -> None:
        self._system = system
        self._throttle_s = throttle_s
        self._queue_size = queue_size
        self._clients: set[asyncio.Queue[Message | None]] = set()
        self._flush: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self) -> DisposableBase:
        """Listen to the pipeline; call on the event loop."""
        self._loop = asyncio.get_running_loop()
        system, graph = self._system, self._system.graph
        scheduler = system.scheduler
        dirty = guarded("web", lambda _: self._dirty())
        return CompositeDisposable(
            system.plans.subscribe(guarded("web", lambda made: self._on_plan(made.plan))),
            system.bus.stream.subscribe(guarded("web", self._on_event), scheduler=scheduler),
            graph.states.subscribe(dirty, scheduler=scheduler),
            graph.socs.subscribe(dirty, scheduler=scheduler),
            graph.errors.subscribe(dirty, scheduler=scheduler),
            Disposable(self._cancel_flush),
        )

    def subscribe(self) -> asyncio.Queue[Message | None]:
        queue: asyncio.Queue[Message | None] = asyncio.Queue(self._queue_size)
        queue.put_nowait(("dashboard", _json(dashboard_view(self._system))))
        self._clients.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Message | None]) -> None:
        self._clients.discard(queue)

    def close(self) -> None:
        """End every stream (before the server shuts down: it waits for open responses)."""
        self._cancel_flush()
        for queue in self._clients:
            self._drain(queue)
            queue.put_nowait(None)
        self._clients.clear()

    def broadcast(self, name: str, data: str) -> None:
        for queue in self._clients:
            try:
                queue.put_nowait((name, data))
            except asyncio.QueueFull:
                # A client that falls behind gets the whole picture again instead of a backlog.
                self._drain(queue)
                queue.put_nowait(("dashboard", _json(dashboard_view(self._system))))

    @staticmethod
    def _drain(queue: asyncio.Queue[Message | None]) -> None:
        while not queue.empty():
            queue.get_nowait()

    def _on_event(self, event: Event) -> None:
        if self._clients:
            self.broadcast("event", _json(event_view(event)))
        self._dirty()

    def _on_plan(self, plan: Plan) -> None:
        if self._clients:
            self.broadcast("plan", _json(plan_view(plan, self._system.settings.planning.time_limit.total_seconds())))
        self._dirty()

    def _dirty(self) -> None:
        if self._flush is None and self._clients and self._loop is not None:
            self._flush = self._loop.call_later(self._throttle_s, self._send_live)

    def _send_live(self) -> None:
        self._flush = None
        if self._clients:
            self.broadcast("live", _json(live_view(self._system)))

    def _cancel_flush(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None


def stream_endpoint(hub: Hub, keepalive_s: float) -> Any:
    async def stream(request: Request) -> StreamingResponse:
        queue = hub.subscribe()

        async def body() -> AsyncIterator[str]:
            try:
                yield "retry: 3000\n\n"
                while True:
                    try:
                        message = await asyncio.wait_for(queue.get(), keepalive_s)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if message is None:
                        return
                    yield sse(*message)
            finally:
                hub.unsubscribe(queue)

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(body(), media_type="text/event-stream", headers=headers)

    return stream


__all__ = ["Hub", "sse", "stream_endpoint"]
