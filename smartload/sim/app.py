"""The simulator's HTTP surface: evcc's REST API, the fake car clouds and the sim clock.

Paths are matched against evcc's own route patterns, so a value the pattern rejects (or a
loadpoint that does not exist) is a 404 "404 page not found" as from evcc's router, and
a value the setter rejects is a 400 {"error": ...}. evcc's login endpoints are in auth.py.
Every response carries the simulated time in the X-Sim-Time header.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

from loguru import logger
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from smartload.settings.sim import SimSettings
from smartload.sim.auth import SimAuth
from smartload.sim.days import rfc3339
from smartload.sim.handlers import ROUTES, NotRouted
from smartload.sim.layouts import Layout
from smartload.sim.site import Site
from smartload.sim.state_view import build_state, solar_forecast

log = logger.bind(component="sim")
Sleep = Callable[[float], Awaitable[None]]
_TARIFFS = ("grid", "feedin", "co2", "planner", "solar", "temperature")
_CLOUD = re.compile(r"^/cloud/(?P<vehicle>[a-z0-9][a-z0-9_-]*)/soc$")


class SimApp:
    """Routes requests to the model. `cloud_sleep` waits a cloud's latency, and evcc's
    write latency (simulated s)."""

    def __init__(self, site: Site, layout: Layout, cloud_sleep: Sleep, speed: float, auth: SimAuth,
                 write_latency_s: float = 0.0) -> None:
        self.site = site
        self.layout = layout
        self._cloud_sleep = cloud_sleep
        self._speed = speed
        self.auth = auth
        self._write_latency_s = write_latency_s
        self.writes = 0
        # Writes received (applied or refused), counted before evcc's late answer is sent.
        self.writes_received = 0

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        merged = {"X-Sim-Time": rfc3339(self.site.t), **(headers or {})}
        return JSONResponse(body, status_code=status, headers=merged)

    def _not_found(self) -> Response:
        return PlainTextResponse("404 page not found\n", status_code=404,
                                 headers={"X-Sim-Time": rfc3339(self.site.t)})

    async def handle(self, request: Request) -> Response:
        path = request.url.path.rstrip("/") or "/"
        method = request.method
        if path.startswith("/api/auth/"):
            answer = await self.auth.handle(method, path, request)
            if answer is None:
                return self._not_found()
            answer.headers["X-Sim-Time"] = rfc3339(self.site.t)
            return answer
        if method == "GET":
            return await self._get(path)
        for route_method, pattern, handler in ROUTES:
            match = pattern.match(path)
            if match is None or route_method != method:
                continue
            self.writes_received += 1
            answer = self._write(method, path, handler, match)
            if self._write_latency_s > 0:
                # evcc has applied it; its answer comes late (simulated seconds, like a cloud's).
                await self._cloud_sleep(self._write_latency_s)
            return answer
        return self._not_found()

    def _write(self, method: str, path: str, handler: Callable[[Site, re.Match[str]], Any],
               match: re.Match[str]) -> Response:
        site = self.site
        try:
            value = handler(site, match)
        except NotRouted:
            log.info("{}: write {} {} -> 404 (no such loadpoint)", site.local(), method, path)
            return self._not_found()
        except ValueError as exc:
            log.info("{}: write {} {} -> 400 {}", site.local(), method, path, exc)
            return self._json({"error": str(exc)}, 400)
        self.writes += 1
        log.info("{}: write {} {} -> {}", site.local(), method, path, value)
        return self._json(self.layout.response(value))

    async def _get(self, path: str) -> Response:
        site = self.site
        if path == "/api/state":
            state = build_state(site, self.layout.version)
            self.auth.annotate(state)
            return self._json(self.layout.response(self.layout.state(state, site.tz)))
        if path == "/api/health":
            return PlainTextResponse("OK\n", headers={"X-Sim-Time": rfc3339(site.t)})
        if path.startswith("/api/tariff/"):
            return self._tariff(path.removeprefix("/api/tariff/"))
        if path == "/sim/clock":
            return self._json({"now": rfc3339(site.t), "local": site.local(), "speed": self._speed})
        match = _CLOUD.match(path)
        if match:
            return await self._cloud(match["vehicle"])
        return self._not_found()

    def _tariff(self, name: str) -> Response:
        site = self.site
        if name not in _TARIFFS:
            return self._json({"error": f"{name} does not belong to TariffUsage values"}, 404)
        if name in ("grid", "planner"):
            rates = site.tariff.grid_rates(site.t)
        elif name == "feedin":
            rates = site.tariff.feedin_rates(site.t)
        elif name == "solar":
            rates, _ = solar_forecast(site)
        else:
            return self._json({"error": "tariff not available"}, 404)
        return self._json(self.layout.response({"rates": self.layout.rates(rates, site.tz)}))

    async def _cloud(self, name: str) -> Response:
        site = self.site
        vehicle = site.vehicles.get(name)
        if vehicle is None:
            return self._json({"error": f"unknown vehicle {name}"}, 404)
        if vehicle.spec.soc_source == "none":
            return self._json({"error": f"{name} has no cloud"}, 404)
        answer = vehicle.cloud.request(site.t)
        await self._cloud_sleep(answer.delay_s)
        if answer.status == 429:
            log.info("{}: cloud {}: 429, daily limit reached", site.local(), name)
            wall = math.ceil((answer.retry_after_s or 0.0) / self._speed)
            return self._json(answer.body, 429, {"Retry-After": str(wall)})
        log.debug("{}: cloud {}: {}", site.local(), name, answer.body)
        return self._json(answer.body)


def create_app(site: Site, layout: Layout, *, cloud_sleep: Sleep, speed: float,
               settings: SimSettings | None = None) -> Starlette:
    settings = settings or SimSettings()
    sim = SimApp(site, layout, cloud_sleep, speed, SimAuth(settings), settings.write_latency_s)
    methods = ["GET", "POST", "DELETE", "PATCH"]
    app = Starlette(routes=[Route("/{path:path}", sim.handle, methods=methods)])
    app.state.sim = sim
    return app
