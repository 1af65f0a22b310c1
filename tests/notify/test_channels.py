"""ntfy, a webhook and Telegram, against a local HTTP server standing in for all three,
driven through the real wiring: a handoff from the planner becomes three requests."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta

import pytest
import uvicorn
from loguru import logger
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from smartload.domain import PollError
from smartload.notify import start_notify
from smartload.sinks.sequencer import Handoff
from tests.web.builders import NOW, make_parts, settings, site_state

BOT = "123456:secret-bot-token"


class Receiver:
    """Records every request; answers 500 while `failing`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, object]]] = []
        self.arrived = asyncio.Event()
        self.failing = False

        async def record(request: Request) -> JSONResponse:
            self.requests.append((request.url.path, dict(request.headers), json.loads(await request.body())))
            self.arrived.set()
            return JSONResponse({"ok": not self.failing}, status_code=500 if self.failing else 200)

        self.app = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])

    async def wait_for(self, count: int) -> None:
        async def enough() -> None:
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), 5)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    fake = Receiver()
    server = uvicorn.Server(uvicorn.Config(fake.app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.005)
    yield fake, f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await task


async def test_a_handoff_reaches_ntfy_the_webhook_and_telegram(tmp_path, receiver):
    fake, url = receiver
    config = settings(tmp_path, notify={
        "ntfy": {"url": url, "topic": "smartload-home", "token": "tk_ntfy"},
        "webhook": {"url": f"{url}/hooks/smartload", "headers": {"X-Key": "k1"}},
        "telegram": {"bot_token": BOT, "chat_id": "42", "api_url": url},
    })
    parts = make_parts(config)
    log = io.StringIO()
    sink = logger.add(log, level="DEBUG")
    async with AsyncExitStack() as stack:
        notifier = await start_notify(parts.system, stack)
        assert notifier.channel_names == ["ntfy", "webhook", "telegram"]
        parts.push_state(site_state())  # loadpoint 1 is evcc's "Garage": the message names it so
        handoff = Handoff(1, "ioniq", NOW + timedelta(hours=1), "zoe", NOW)
        parts.system.planning.handed_off.on_next(handoff)
        await fake.wait_for(3)
        by_path = {path: (headers, body) for path, headers, body in fake.requests}
        text = "Plug in Hyundai Ioniq 5 at Garage by 21:00, unplug Renault Zoe first."
        headers, body = by_path["/"]
        assert headers["authorization"] == "Bearer tk_ntfy"
        assert body == {"topic": "smartload-home", "title": "Plug in Hyundai Ioniq 5", "message": text,
                        "priority": 4, "tags": ["handoff"]}
        headers, body = by_path["/hooks/smartload"]
        assert headers["x-key"] == "k1"
        assert body == {"kind": "handoff", "title": "Plug in Hyundai Ioniq 5", "text": text, "vehicle": "ioniq",
                        "at": "2026-03-02T19:00:00+00:00"}
        assert by_path[f"/bot{BOT}/sendMessage"][1] == {"chat_id": "42", "text": f"Plug in Hyundai Ioniq 5\n{text}"}

        # evcc down for longer than the grace time: one message; a failing channel is logged
        # without its URL (Telegram's holds the bot token).
        fake.failing = True
        for minutes in (0, 5, 10, 11):
            parts.subjects["errors"].on_next(PollError(NOW + timedelta(minutes=minutes), "connect", "refused"))
        await fake.wait_for(6)
        assert [b["title"] for p, _, b in fake.requests[3:] if p == "/"] == ["evcc unreachable"]
        parts.subjects["states"].on_next(site_state(NOW + timedelta(minutes=12)))
        await fake.wait_for(9)
        assert [b.get("title") for p, _, b in fake.requests[6:] if p == "/"] == ["evcc is back"]
    logger.remove(sink)
    parts.close()
    assert "notify: could not send 'evcc unreachable': telegram: HTTP 500" in log.getvalue()
    assert BOT not in log.getvalue()
