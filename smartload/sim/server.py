"""SimServer: the site model on a clock, served over HTTP on 127.0.0.1.

Live, the model follows the wall clock times `speed` in steps of `step_s` simulated
seconds (coarser when the speed would need more than 200 steps per 0.1 s tick), so CPU
stays low at speed 60. With `run_clock=False` nothing moves unless the caller advances
the model (`advance`), for tests in virtual time. The HTTP side can be stopped and
restarted on the same port (`stop_serving` / `start_serving`) to play an evcc outage
while the site itself keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime
from types import TracebackType

import uvicorn
from loguru import logger

from smartload.settings.sim import SimSettings
from smartload.sim.app import Sleep, create_app
from smartload.sim.layouts import Layout
from smartload.sim.scenario import Scenario, load_scenario
from smartload.sim.site import Site
from smartload.sim.summary import summary

log = logger.bind(component="sim")
TICK_S = 0.1
_MAX_STEPS_PER_TICK = 200


class _Server(uvicorn.Server):
    # The host process owns SIGINT/SIGTERM; an embedded simulator must not take them.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class SimServer:
    """Async context manager: builds the site, runs its clock, serves evcc's API."""

    def __init__(self, settings: SimSettings, *, scenario: Scenario | None = None, run_clock: bool = True,
                 cloud_sleep: Sleep | None = None, tick: Callable[[], Awaitable[None]] | None = None,
                 wall_time: Callable[[], float] | None = None) -> None:
        """`cloud_sleep` waits a cloud's latency (simulated s); `tick` and `wall_time` replace
        the clock's 0.1 s wait and its monotonic time source (tests drive them by hand)."""
        self.settings = settings
        self.scenario = scenario if scenario is not None else load_scenario(settings.scenario)
        start = settings.start or datetime.now(UTC)
        self.site = Site(self.scenario, start=start, seed=settings.seed, prices_csv=settings.prices_csv)
        self.layout = Layout(settings.layout)
        self.port = settings.port
        self._run_clock = run_clock
        speed = settings.speed
        self._cloud_sleep = cloud_sleep or (lambda seconds: asyncio.sleep(seconds / speed))
        self.app = create_app(self.site, self.layout, cloud_sleep=self._cloud_sleep, speed=speed, settings=settings)
        self._tick = tick or (lambda: asyncio.sleep(TICK_S))
        self._wall_time = wall_time
        self._server: _Server | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._clock_task: asyncio.Task[None] | None = None

    # --- public ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def serving(self) -> bool:
        return self._serve_task is not None and not self._serve_task.done()

    def now(self) -> datetime:
        """The simulated time (UTC)."""
        return self.site.now()

    def advance(self, seconds: float, step_s: float | None = None) -> None:
        """Move the model forward in virtual time (for tests, with run_clock=False)."""
        self.site.run_for(seconds, step_s or self.settings.step_s)

    async def __aenter__(self) -> SimServer:
        await self.start_serving()
        if self._run_clock:
            self._clock_task = asyncio.create_task(self._clock(), name="sim-clock")
        log.info("evcc simulator '{}' at {} ({}, speed {:g}x, layout {}, simulated time {})",
                 self.scenario.title, self.url, self.settings.scenario, self.settings.speed,
                 self.layout.version, self.site.local())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._clock_task is not None:
            self._clock_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock_task
            self._clock_task = None
        await self.stop_serving()

    async def start_serving(self) -> None:
        """Listen on 127.0.0.1:port (the port found at the first start is kept)."""
        if self.serving:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: without, h11's separate header and body writes meet
        # Nagle and delayed ACKs, ~45 ms per request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        # log_config None: uvicorn's default would install its own stderr handlers, past
        # loguru's redaction, also for the service's web server started beside it.
        config = uvicorn.Config(self.app, lifespan="off", log_level="warning", access_log=False, log_config=None)
        server = _Server(config)
        self._server = server
        self._serve_task = asyncio.create_task(server.serve(sockets=[sock]), name="sim-http")
        while not server.started:
            if self._serve_task.done():
                self._serve_task.result()
                raise RuntimeError("simulator HTTP server stopped during startup")
            await asyncio.sleep(0.005)

    async def stop_serving(self) -> None:
        """Close the HTTP side (an evcc outage); the site keeps running."""
        if self._server is None or self._serve_task is None:
            return
        self._server.should_exit = True
        await self._serve_task
        self._server = None
        self._serve_task = None

    @property
    def clock_task(self) -> asyncio.Task[None] | None:
        return self._clock_task

    async def wait_closed(self) -> None:
        """Until the HTTP side stops (never, unless stopped)."""
        while self._serve_task is not None:
            task = self._serve_task
            await asyncio.shield(task)
            if task is self._serve_task:
                return

    # --- clock ---------------------------------------------------------------------------------

    async def _clock(self) -> None:
        wall = self._wall_time or asyncio.get_running_loop().time
        speed = self.settings.speed
        step = max(self.settings.step_s, speed * TICK_S / _MAX_STEPS_PER_TICK)
        site = self.site
        wall0, sim0 = wall(), site.t
        next_summary = site.t - site.t % 3600 + 3600
        while True:
            await self._tick()
            target = sim0 + (wall() - wall0) * speed
            try:
                while site.t + step <= target:
                    site.advance(step)
            except Exception:
                # A model error must not silently stop the clock of a running demo.
                log.exception("simulator step failed at {}", site.local())
                raise
            if site.t >= next_summary:
                log.info("{}", summary(site))
                next_summary = site.t - site.t % 3600 + 3600


async def run_sim(settings: SimSettings) -> None:
    """Run the simulator until cancelled (the `python -m smartload sim` command)."""
    async with SimServer(settings) as server:
        log.info("point evcc clients at {} (GET /api/state); car clouds at {}/cloud/<vehicle>/soc",
                 server.url, server.url)
        await server.wait_closed()
