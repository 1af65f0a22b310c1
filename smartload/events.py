"""The event log: one stream of things a person wants to know happened.

Plug-ins, refreshes, handoffs, writes to evcc, errors and outages are published here by
the service; the dashboard, the store, MQTT and notifications subscribe. Each event has a
sentence a person reads and structured data for machines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

from reactivex import Observable
from reactivex.subject import Subject

EventKind = Literal[
    "plug-in", "unplug", "refresh", "handoff", "write", "override", "error", "outage", "request", "plan", "boost",
]


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: EventKind
    text: str
    vehicle: str | None = None
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class EventBus:
    """A hot stream of events. Publishing never raises into the publisher."""

    def __init__(self) -> None:
        self._subject: Subject[Event] = Subject()

    @property
    def stream(self) -> Observable[Event]:
        return self._subject

    def publish(self, event: Event) -> None:
        self._subject.on_next(event)
