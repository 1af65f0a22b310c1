from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest

from smartload.web import start_web
from smartload.web.server import WebServer
from tests.web.builders import Parts, make_parts, plan, settings, site_state, zoe_reading


@dataclass
class Served:
    parts: Parts
    server: WebServer
    client: httpx.AsyncClient


async def serve(parts: Parts) -> tuple[AsyncExitStack, Served]:
    stack = AsyncExitStack()
    server = await start_web(parts.system, stack)
    client = await stack.enter_async_context(httpx.AsyncClient(base_url=server.url, timeout=5))
    return stack, Served(parts, server, client)


@pytest.fixture
async def served(tmp_path) -> AsyncIterator[Served]:
    """The real web server on 127.0.0.1 (a free port) over a hand-made system: zoe at
    loadpoint 1 with 45 % from its cloud, and a four-slot plan."""
    parts = make_parts(settings(tmp_path))
    parts.push_state(site_state())
    parts.push_socs(zoe_reading())
    parts.push_plan(plan())
    stack, result = await serve(parts)
    async with stack:
        yield result
    parts.close()
