"""The web server: uvicorn on its own socket, on the service's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from smartload.logsetup import UVICORN_LOGGERS, route_to_loguru
from smartload.web.stream import Hub


class _Server(uvicorn.Server):
    # The service owns SIGINT/SIGTERM; an embedded server must not take them.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: without, h11's separate header and body writes meet
    # Nagle and delayed ACKs, ~45 ms per request on loopback.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


class WebServer:
    """async with WebServer(app, hub, host, port) as server: server.url ..."""

    def __init__(self, app: ASGIApp, hub: Hub, host: str = "127.0.0.1", port: int = 8099) -> None:
        self._app = app
        self._hub = hub
        self._host = host
        self.port = port
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        # Bound to every address (a container's 0.0.0.0), the server is reached as
        # localhost: a browser cannot open http://0.0.0.0 or http://[::].
        listen = self._host if self._host not in WILDCARD_HOSTS else "localhost"
        host = f"[{listen}]" if ":" in listen else listen
        return f"http://{host}:{self.port}"

    async def __aenter__(self) -> WebServer:
        sock = listening_socket(self._host, self.port)
        self.port = sock.getsockname()[1]
        # log_config None: uvicorn's own handlers would print its errors and tracebacks
        # past loguru's redaction; another server's (the simulator's) may have set them.
        config = uvicorn.Config(self._app, lifespan="off", log_level="warning", access_log=False,
                                timeout_graceful_shutdown=2, log_config=None)
        route_to_loguru(*UVICORN_LOGGERS)
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="web")
        while not self._server.started:
            if self._task.done():
                await self._task  # raises what stopped it
                raise RuntimeError("the web server stopped while starting")
            await asyncio.sleep(0.005)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._hub.close()  # open event streams end, so the shutdown need not wait for them
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
