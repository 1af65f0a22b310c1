"""A real HTTP server on 127.0.0.1 (port 0) that replays recorded cloud responses.

Routes map (method, path regex) to a Reply or to a function of the request; replies
queued with `push` are served first, once each. Every request is kept in `hits`, so a
test can count exactly which calls reached the "cloud".
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn

# Recorded cloud answers kept in the repository (tests/data/vehicles/SOURCES.md).
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "vehicles"


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def fixture_json(relative: str) -> Any:
    return json.loads(fixture_bytes(relative))


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Never answer (until the server stops): for client timeouts.
    hang: bool = False

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


def json_reply(relative: str, status: int = 200, **headers: str) -> Reply:
    return Reply(status, fixture_bytes(relative), {"content-type": "application/json", **headers})


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


Handler = Reply | Callable[[Hit], Reply]


class FakeCloud:
    def __init__(self, *, date_header: bool = True) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._queued: dict[tuple[str, str], deque[Reply]] = {}
        self.hits: list[Hit] = []
        self._date_header = date_header
        self._release = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Later routes win over earlier ones for the same request."""
        self._routes.insert(0, (method, re.compile(pattern + "$"), handler))

    def push(self, method: str, pattern: str, *replies: Reply) -> None:
        self._queued.setdefault((method, pattern), deque()).extend(replies)

    def count(self, method: str | None = None, pattern: str = ".*") -> int:
        regex = re.compile(pattern + "$")
        return sum(1 for h in self.hits if (method is None or h.method == method) and regex.match(h.path))

    def paths(self) -> list[str]:
        return [f"{h.method} {h.path}" for h in self.hits]

    def _answer(self, hit: Hit) -> Reply:
        for (method, pattern), queue in self._queued.items():
            if queue and method == hit.method and re.fullmatch(pattern, hit.path):
                return queue.popleft()
        for method, regex, handler in self._routes:
            if method == hit.method and regex.match(hit.path):
                return handler(hit) if callable(handler) else handler
        return Reply(404, {"error": f"no route for {hit.method} {hit.path}"})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        hit = Hit(scope["method"], scope["path"], parse_qs(scope["query_string"].decode()), headers, body)
        self.hits.append(hit)
        reply = self._answer(hit)
        if reply.hang:
            await self._release.wait()
            reply = Reply(504, b"released")
        payload, content_type = reply.encoded()
        out = {"content-type": content_type, **{k.lower(): v for k, v in reply.headers.items()}}
        await send({
            "type": "http.response.start",
            "status": reply.status,
            "headers": [(k.encode(), v.encode()) for k, v in out.items()],
        })
        await send({"type": "http.response.body", "body": payload})

    async def start(self) -> FakeCloud:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # uvicorn writes a response's head and body separately; without this, Nagle plus the
        # client's delayed ACK cost 40 ms per request (requests/urllib3).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self, lifespan="off", log_level="warning", date_header=self._date_header, timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.005)
        return self

    async def stop(self) -> None:
        self._release.set()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            self._server.force_exit = True
            await self._task
