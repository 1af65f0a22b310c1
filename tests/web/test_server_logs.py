"""uvicorn's own error logs and tracebacks go through loguru and its redaction, even after
another uvicorn server (the embedded simulator's) installed uvicorn's default handlers."""

from __future__ import annotations

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartload.logsetup import LogConfig
from smartload.web.server import WebServer


class _NoStreams:
    def close(self) -> None:
        pass


async def _fails(request: Request) -> Response:
    raise RuntimeError("evcc refused password=hunter2 for http://admin:s3cret@evcc.local")


async def test_an_exception_in_the_app_is_logged_once_through_loguru_with_secrets_masked(capfd):
    LogConfig().apply(level="INFO")  # as the CLI does before anything starts
    uvicorn.Config(Starlette())  # what another server's default log_config does to the uvicorn loggers
    app = Starlette(routes=[Route("/boom", _fails)])
    server = WebServer(app, _NoStreams(), "127.0.0.1", 0)  # type: ignore[arg-type]
    async with server, httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/boom")).status_code == 500
    out, err = capfd.readouterr()
    logged = out + err
    assert "hunter2" not in logged and "s3cret" not in logged
    assert logged.count("Exception in ASGI application") == 1
    # loguru's format (time, level, message) with the traceback folded into the message.
    line = next(line for line in logged.splitlines() if "Exception in ASGI application" in line)
    assert line.endswith("ERROR   Exception in ASGI application")
    assert "RuntimeError: evcc refused password=*** for http://admin:***@evcc.local" in logged
