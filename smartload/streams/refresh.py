"""The refresh stream: fresh SoC from each vehicle's cloud when it matters.

Requests (connection edges, routine requests for unplugged cars, requests a person makes)
go per vehicle into three lanes, plug-in, routine and manual (refresh_lanes.py says how
each decides), which share the daily budget and the cloud's backoff (refresh_gate.py).
Every request gives exactly one outcome (a retry of a plug-in refresh adds one, numbered),
each with its reason; nothing is dropped silently, and a failing cloud never ends the
stream.

Freshness needs the readings that do not come from here (evcc's, typed-in ones): the
`readings` input. This operator's own answers are kept inside it, so the SoC stream may
depend on the outcomes without a subscription cycle. `departures` ends cars' stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import tzinfo
from typing import Any

import reactivex as rx
from reactivex import Observable
from reactivex.abc import DisposableBase, ObserverBase, SchedulerBase
from reactivex.disposable import CompositeDisposable
from reactivex.scheduler import TimeoutScheduler

from smartload.domain import ConnectionEdge, RefreshOutcome, SocReading
from smartload.streams.refresh_gate import RefreshGate, RefreshPolicy
from smartload.streams.refresh_lanes import LANES, Lane, VehicleLanes
from smartload.streams.unplugged import Departure
from smartload.vehicles.base import VehicleProvider

__all__ = ["LANES", "Lane", "RefreshGate", "RefreshPolicy", "refreshes"]


def refreshes(
    requests: Observable[ConnectionEdge],
    providers: Mapping[str, VehicleProvider],
    policies: Mapping[str, RefreshPolicy],
    tz: tzinfo,
    readings: Observable[SocReading] | None = None,
    departures: Observable[Departure] | None = None,
) -> Observable[RefreshOutcome]:
    """One outcome per request (edges and refresh requests), plus one per retry.

    `readings` are the SoC readings that do not come from this stream (evcc, manual);
    `departures` the cars leaving their wallboxes. Requests of vehicles without a provider
    are ignored (evcc's own SoC still flows). Completes when the requests have completed
    and every call under way has ended; retries still planned then are cancelled."""

    def subscribe(observer: ObserverBase[RefreshOutcome], scheduler: SchedulerBase | None = None) -> DisposableBase:
        clock = scheduler or TimeoutScheduler.singleton()
        vehicles: dict[str, VehicleLanes] = {}
        disposables = CompositeDisposable()
        ended = [False, False]  # requests completed, output completed

        def on_idle() -> None:
            if ended[0] and not ended[1] and all(v.idle for v in vehicles.values()):
                for each in vehicles.values():
                    each.close()
                ended[1] = True
                observer.on_completed()

        def vehicle(name: str) -> VehicleLanes | None:
            if name not in providers:
                return None
            if name not in vehicles:
                vehicles[name] = VehicleLanes(providers[name], policies[name], tz, clock, observer.on_next, on_idle)
                disposables.add(vehicles[name].disposable)
            return vehicles[name]

        def on_reading(reading: SocReading) -> None:
            if (v := vehicle(reading.vehicle)) is not None:
                v.reading(reading)

        def on_departure(departure: Departure) -> None:
            if (v := vehicle(departure.vehicle)) is not None:
                v.departed(departure.at)

        def on_request(edge: ConnectionEdge) -> None:
            if (v := vehicle(edge.vehicle)) is not None:
                v.request(edge)

        def on_completed() -> None:
            ended[0] = True
            on_idle()

        def ignore_end() -> None:  # the side inputs may end before the requests do
            return None

        sides: list[tuple[Observable[Any] | None, Callable[[Any], None]]] = [
            (readings, on_reading), (departures, on_departure)]
        for source, handler in sides:
            if source is not None:
                disposables.add(source.subscribe(handler, observer.on_error, ignore_end, scheduler=scheduler))
        disposables.add(requests.subscribe(on_request, observer.on_error, on_completed, scheduler=scheduler))
        return disposables

    return rx.create(subscribe)
