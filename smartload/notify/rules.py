"""What to tell a person, and how often. Pure: every time comes in as an argument.

Three alerts: a handoff ("plug in X by 22:00"), a departure target at risk (the plan misses
it by more than `shortfall_kwh`) and evcc unreachable for longer than
`evcc_unreachable_after` (then once more when it answers again). The rate limit sends the
same message (kind and car) at most once per `min_interval` and all messages together at
most `max_per_hour`; what it holds back is counted and mentioned in the next message.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from smartload.settings.notify import NotifySettings
from smartload.sinks.sequencer import Handoff

if TYPE_CHECKING:
    from smartload.planner import Plan

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Message:
    kind: str  # "handoff" | "at-risk" | "evcc-down" | "evcc-up"
    title: str
    text: str
    at: datetime
    vehicle: str | None = None
    priority: int = 3


class RateLimiter:
    def __init__(self, min_interval: timedelta, max_per_hour: int) -> None:
        self._min_interval = min_interval
        self._max_per_hour = max_per_hour
        self._last: dict[str, datetime] = {}
        self._sent: deque[datetime] = deque()
        self.held_back = 0

    def allow(self, key: str, now: datetime) -> bool:
        last = self._last.get(key)
        if last is not None and now - last < self._min_interval:
            return False
        while self._sent and now - self._sent[0] >= HOUR:
            self._sent.popleft()
        if len(self._sent) >= self._max_per_hour:
            self.held_back += 1
            return False
        self._last[key] = now
        self._sent.append(now)
        return True


class Alerts:
    def __init__(self, settings: NotifySettings, tz: tzinfo, titles: Mapping[str, str]) -> None:
        self._settings = settings
        self._tz = tz
        self._titles = dict(titles)
        self.limiter = RateLimiter(settings.min_interval, settings.max_per_hour)
        self._at_risk: dict[str, datetime | None] = {}  # car -> departure it was reported at risk for
        self._down_since: datetime | None = None
        self._down_told = False

    def _name(self, vehicle: str) -> str:
        return self._titles.get(vehicle) or vehicle

    def _clock(self, at: datetime) -> str:
        return at.astimezone(self._tz).strftime("%H:%M")

    def _pass(self, key: str, message: Message) -> list[Message]:
        if not self.limiter.allow(key, message.at):
            return []
        held, self.limiter.held_back = self.limiter.held_back, 0
        if held:
            more = f" ({held} earlier message{'s' if held > 1 else ''} held back)"
            message = Message(message.kind, message.title, message.text + more, message.at, message.vehicle,
                              message.priority)
        return [message]

    def handoff(self, handoff: Handoff, wallbox: str | None = None) -> list[Message]:
        """wallbox: its name as the dashboard shows it (evcc's title; views.wallbox_name)."""
        name = self._name(handoff.vehicle)
        swap = f", unplug {self._name(handoff.replaces)} first" if handoff.replaces else ""
        where = wallbox or f"wallbox {handoff.wallbox_id}"
        text = f"Plug in {name} at {where} by {self._clock(handoff.by)}{swap}."
        message = Message("handoff", f"Plug in {name}", text, handoff.at, handoff.vehicle, 4)
        return self._pass(f"handoff:{handoff.vehicle}:{handoff.wallbox_id}:{handoff.by.isoformat()}", message)

    def plan(self, plan: Plan, at: datetime) -> list[Message]:
        out = []
        for vehicle, car in plan.cars.items():
            if car.departure is None or not car.shortfall_kwh > self._settings.shortfall_kwh:  # not at risk
                self._at_risk.pop(vehicle, None)
                continue
            if vehicle in self._at_risk and self._at_risk[vehicle] == car.departure:
                continue
            self._at_risk[vehicle] = car.departure
            name = self._name(vehicle)
            target = f"{car.target_soc_pct:.0f} %" if car.target_soc_pct is not None else "its target"
            projected = f", about {car.final_soc_pct:.0f} % by then" if car.final_soc_pct is not None else ""
            text = (f"{name} may miss {target} by {self._clock(car.departure)}{projected} "
                    f"({car.shortfall_kwh:.1f} kWh short). {car.reason}")
            out += self._pass(f"at-risk:{vehicle}", Message("at-risk", f"{name} may miss its target", text, at,
                                                            vehicle, 4))
        return out

    def evcc(self, at: datetime, reachable: bool) -> list[Message]:
        if reachable:
            was_told, since = self._down_told, self._down_since
            self._down_since, self._down_told = None, False
            if was_told and since is not None:
                minutes = (at - since).total_seconds() / 60
                return self._pass("evcc-up", Message("evcc-up", "evcc is back",
                                                     f"evcc answers again after {minutes:.0f} min.", at))
            return []
        if self._down_since is None:
            self._down_since = at
        if self._down_told or at - self._down_since < self._settings.evcc_unreachable_after:
            return []
        self._down_told = True
        minutes = (at - self._down_since).total_seconds() / 60
        text = (f"evcc has not answered since {self._clock(self._down_since)} ({minutes:.0f} min); "
                "smartload keeps trying.")
        return self._pass("evcc-down", Message("evcc-down", "evcc unreachable", text, at, None, 4))
