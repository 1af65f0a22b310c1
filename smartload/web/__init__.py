"""The dashboard and JSON API: Starlette on uvicorn, live through server-sent events.

Starlette, uvicorn and prometheus_client take a quarter of a second to import on a small
board: start_web loads them after the service's first poll (issue 19: evcc is read within
0.5 s of the start), having counted the event log from the start."""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from loguru import logger

from smartload.sinks.base import guarded
from smartload.system import System
from smartload.web.auth import TOKEN_FILE, load_token
from smartload.web.tally import Tally

if TYPE_CHECKING:
    from smartload.plugins import FirstPoll
    from smartload.web.server import WebServer

__all__ = ["start_web"]


async def start_web(system: System, stack: AsyncExitStack,
                    first_poll: FirstPoll | None = None) -> WebServer | None:
    """Serve the dashboard and API until the stack closes (None: the port is taken), after
    `first_poll` (if given). A token generated now is printed once, to stderr (not the
    log), with a link that hands it to the browser."""
    settings = system.settings
    token, created = load_token(settings.web, settings.data_dir)
    tally = Tally(system)
    stack.callback(system.bus.stream.subscribe(guarded("metrics", tally.on_event),
                                                scheduler=system.scheduler).dispose)
    if first_poll is not None:
        await first_poll()
    from smartload.web.app import create_app
    from smartload.web.server import WILDCARD_HOSTS, WebServer
    from smartload.web.stream import Hub

    hub = Hub(system)  # nothing is lost before it attaches: a new stream starts from the live view
    stack.callback(hub.attach().dispose)
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
