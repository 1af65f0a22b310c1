"""The dashboard and JSON API: Starlette on uvicorn, live through server-sent events."""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack

from loguru import logger

from smartload.sinks.base import guarded
from smartload.system import System
from smartload.web.app import create_app
from smartload.web.auth import TOKEN_FILE, load_token
from smartload.web.metrics import Tally
from smartload.web.server import WILDCARD_HOSTS, WebServer
from smartload.web.stream import Hub

__all__ = ["WebServer", "create_app", "start_web"]


async def start_web(system: System, stack: AsyncExitStack) -> WebServer | None:
    """Serve the dashboard and API until the stack closes (None: the port is taken). A
    token generated now is printed once, to stderr (not the log), with a link that hands
    it to the browser."""
    settings = system.settings
    token, created = load_token(settings.web, settings.data_dir)
    hub, tally = Hub(system), Tally(system)
    stack.callback(hub.attach().dispose)
    stack.callback(system.bus.stream.subscribe(guarded("metrics", tally.on_event),
                                                scheduler=system.scheduler).dispose)
    app = create_app(system, token, settings.web, hub, tally)
    server: WebServer | None = None
    try:
        server = await stack.enter_async_context(WebServer(app, hub, settings.web.host, settings.web.port))
        every = f"; listening on every address ({settings.web.host})" if settings.web.host in WILDCARD_HOSTS else ""
        logger.info("dashboard at {} (API: {}/api){}", server.url, server.url, every)
    except OSError as exc:
        # The planner and the writes to evcc matter more than the dashboard: keep running.
        logger.error("web: cannot listen on {}:{} ({}); the dashboard and API are off (settings web.port)",
                     settings.web.host, settings.web.port, exc.strerror or exc)
    if created:
        link = f"\n  open {server.url}/#token={token} to hand it to this browser" if server is not None else ""
        print(f"smartload: a token for changes through the web API was generated and saved in "
              f"{settings.data_dir / TOKEN_FILE}; it is shown only this once:\n  {token}{link}",
              file=sys.stderr, flush=True)
    return server
