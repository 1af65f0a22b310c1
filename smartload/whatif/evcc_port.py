"""An in-process evcc over the simulated site: state bodies as bytes, writes applied at once.

The same site model, state view and write handlers the simulator's HTTP server uses, minus
the HTTP: a what-if month runs tens of thousands of polls, and a socket per poll would
cost more than the simulation itself. A write answers as evcc would: None on success,
else the error text the client would have seen ("400 ...", "404 page not found").

Time only moves through `sync(t)`: the site is stepped to t in steps of `step_s`, and
external events (a car arriving, a person swapping the plug) fire at their own instants.
After every physics step each observer sees the site (meters, session tracking).
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from smartload.sim.handlers import ROUTES, NotRouted
from smartload.sim.layouts import Layout
from smartload.sim.site import Site
from smartload.sim.state_view import build_state

Observer = Callable[[Site, float], None]
Action = Callable[[Site], None]


class EvccPort:
    def __init__(self, site: Site, *, step_s: float = 10.0, layout: str = "0.315.0") -> None:
        if step_s <= 0:
            raise ValueError("step_s must be positive")
        self.site = site
        self.step_s = step_s
        self.layout = Layout(layout)
        self.writes = 0
        self.rejected_writes = 0
        self.polls = 0
        self._observers: list[Observer] = []
        self._events: list[tuple[float, int, Action]] = []
        self._seq = itertools.count()

    # --- time ----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.site.now()

    def observe(self, observer: Observer) -> None:
        """observer(site, dt_s) after every physics step."""
        self._observers.append(observer)

    def at(self, when: datetime | float, action: Action) -> None:
        """Run action(site) when the site reaches `when` (at once if it has passed)."""
        t = when.timestamp() if isinstance(when, datetime) else when
        heapq.heappush(self._events, (max(t, self.site.t), next(self._seq), action))

    def sync(self, when: datetime | float) -> None:
        """Step the site to `when`, firing due events at their instants. Never goes back."""
        target = when.timestamp() if isinstance(when, datetime) else when
        while self._events and self._events[0][0] <= target:
            due, _, action = heapq.heappop(self._events)
            self._step_to(due)
            action(self.site)
        self._step_to(target)

    def _step_to(self, target: float) -> None:
        site = self.site
        observers = self._observers
        while site.t < target - 1e-6:
            dt = min(self.step_s, target - site.t)
            site.advance_to(site.t + dt, dt)
            for observer in observers:
                observer(site, dt)

    # --- evcc's API ------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """GET /api/state as a Python object (the layout's shape)."""
        return self.layout.response(self.layout.state(build_state(self.site, self.layout.version), self.site.tz))

    def state_body(self) -> bytes:
        """GET /api/state as the bytes evcc would send."""
        self.polls += 1
        return json.dumps(self.state(), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

    def request(self, method: str, path: str) -> tuple[int, Any]:
        """A write as evcc's router answers it: (status, body)."""
        for route_method, pattern, handler in ROUTES:
            match = pattern.match(path)
            if match is None or route_method != method:
                continue
            try:
                value = handler(self.site, match)
            except NotRouted:
                break
            except ValueError as exc:
                self.rejected_writes += 1
                return 400, {"error": str(exc)}
            self.writes += 1
            return 200, self.layout.response(value)
        self.rejected_writes += 1
        return 404, "404 page not found"

    def write(self, method: str, path: str) -> str | None:
        """None when evcc took the write, else the error the HTTP client would report."""
        status, body = self.request(method, path)
        if status == 200:
            return None
        if isinstance(body, dict):
            return f"{status} {body.get('error', body)}"
        return f"{status} {str(body).strip()}"


def utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)
