"""Refresh requests for cars that are not plugged in.

A car that left with its battery at the target comes back with less. evcc says nothing
about a car that is not connected, and the refresh on plug-in comes too late where cars
share a wallbox: the car waiting for its turn must be planned (and handed the wallbox)
from what it holds now, not from what it held before the trip. So every `every` that a
car with a cloud provider spends unplugged, its cloud is asked again; the requests pass
the same budget as the plug-in refreshes (but their own throttle: refresh_lanes.py), and never
use the last half of the day's budget, so a plug-in always finds calls left.

`departures` tells the refresh stream when a car left its wallbox: a plug-in soon after
is a flapping cable rather than a trip, and a retry planned for the car is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import reactivex as rx
from reactivex import Observable

from smartload.domain import NO_LOADPOINT, ConnectionEdge, SiteState, plugged_vehicles
from smartload.streams.sync import expand


def _unplugged_mapper(names: Mapping[str, str], watched: tuple[str, ...],
                      every: timedelta) -> Callable[[SiteState], list[ConnectionEdge]]:
    """Per poll: the cars whose last cloud request (or unplug) is `every` ago."""
    clock: dict[str, datetime] = {}  # vehicle -> unplugged since, or asked at

    def observe(state: SiteState) -> list[ConnectionEdge]:
        plugged = plugged_vehicles(state, names).keys()
        # A heat pump is connected with no vehicle too, but is never a car being identified.
        identifying = any(lp.connected and not lp.is_device and lp.identified_vehicle is None
                          for lp in state.loadpoints)
        due = []
        for vehicle in watched:
            if vehicle in plugged:
                clock.pop(vehicle, None)
                continue
            since = clock.setdefault(vehicle, state.at)
            # A car evcc is still identifying may be this one: its plug-in refresh is near.
            if not identifying and state.at - since >= every:
                clock[vehicle] = state.at
                due.append(ConnectionEdge(vehicle, NO_LOADPOINT, state.at, since, "unplugged"))
        return due

    return observe


def unplugged_refreshes(states: Observable[SiteState], names: Mapping[str, str], vehicles: Iterable[str],
                        every: timedelta) -> Observable[ConnectionEdge]:
    """A refresh request ("unplugged") for each of `vehicles` every `every` it is not
    plugged in, the first `every` after it was unplugged (or first seen unplugged)."""
    watched = tuple(vehicles)

    def build(_: object) -> Observable[ConnectionEdge]:
        return states.pipe(expand(_unplugged_mapper(names, watched, every)))  # fresh memory per subscription

    return rx.defer(build)


@dataclass(frozen=True, slots=True)
class Departure:
    """A car no longer at any loadpoint; at is the first poll that did not show it."""

    vehicle: str
    at: datetime


def departures(states: Observable[SiteState], names: Mapping[str, str],
               vehicles: Iterable[str]) -> Observable[Departure]:
    """One Departure each time one of `vehicles` stops being shown at a loadpoint. A car
    evcc identifies anew (detection running again) counts as gone until it is named."""
    watched = frozenset(vehicles)

    def build(_: object) -> Observable[Departure]:
        present: set[str] = set()  # fresh memory per subscription

        def observe(state: SiteState) -> list[Departure]:
            now = plugged_vehicles(state, names).keys() & watched
            gone = sorted(present - now)
            present.clear()
            present.update(now)
            return [Departure(vehicle, state.at) for vehicle in gone]

        return states.pipe(expand(observe))

    return rx.defer(build)
