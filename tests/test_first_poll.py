"""The service reads evcc before it loads the web stack (issue 19: the first poll within
0.5 s of the start), and nothing of that first poll is lost to the adapters that start
around it: the metrics count the outage it began."""

from __future__ import annotations

import asyncio
import socket
from contextlib import AsyncExitStack

import httpx

from smartload.domain import PollError
from smartload.plugins import FirstPoll, Plugins, open_plugins
from smartload.service import run_service
from smartload.settings import Settings
from smartload.system import System
from tests.waiting import until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings(tmp_path, evcc_url: str, **evcc: str) -> Settings:
    return Settings.model_validate({
        "evcc": {"url": evcc_url, "poll_interval": "1h", **evcc},
        "data_dir": str(tmp_path),
        "web": {"port": 0},
    })


async def test_the_web_server_serves_after_the_first_poll_whose_outage_the_metrics_counted(tmp_path):
    config = settings(tmp_path, f"http://127.0.0.1:{free_port()}")  # nothing listens: refused at once
    started: list[Plugins] = []
    seen_at_first_poll: list[PollError | None] = []

    async def hook(system: System, stack: AsyncExitStack, first_poll: FirstPoll) -> None:
        async def noted() -> None:
            await first_poll()
            seen_at_first_poll.append(system.live.health.last_error)

        started.append(await open_plugins(system, stack, noted))

    stop = asyncio.Event()
    service = asyncio.create_task(run_service(config, stop=stop, on_runtime=hook))
    try:
        await until(lambda: bool(started), "the web server")
        [error] = seen_at_first_poll  # what the web server saw when it began to load
        assert error is not None and error.kind == "connect"
        server = started[0].web
        assert server is not None
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
            metrics = (await client.get("/metrics")).text
        # With an hourly poll, the one outage began at the first poll, before the server
        # was loaded: counted all the same.
        assert 'smartload_errors_total{where="outage"} 1.0' in metrics.splitlines()
    finally:
        stop.set()
        assert await asyncio.wait_for(service, 10) == 0


async def test_an_evcc_that_does_not_answer_delays_the_web_server_by_its_request_timeout_only(tmp_path):
    with socket.socket() as listening:  # accepts connections, never answers
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        config = settings(tmp_path, f"http://127.0.0.1:{port}", request_timeout="0.2s")
        waited: list[float] = []

        async def hook(system: System, stack: AsyncExitStack, first_poll: FirstPoll) -> None:
            loop = asyncio.get_running_loop()
            began = loop.time()
            await first_poll()
            waited.append(loop.time() - began)

        stop = asyncio.Event()
        service = asyncio.create_task(run_service(config, stop=stop, on_runtime=hook))
        try:
            await until(lambda: bool(waited), "the first poll's wait to end")
            assert 0.15 <= waited[0] < 1.0, waited
        finally:
            stop.set()
            assert await asyncio.wait_for(service, 10) == 0
