"""Builds the dataflow graph from settings and sources: the one place it can be read whole
(compose.py is its one caller).

    polls ──► states ──► edges, departures ──► refreshes ──┐
      │          ├──────► evcc SoC (+ typed-in) ──┴────────┴─► latest SoC per vehicle ─┐
      │          └──────► tariffs ─────────────────────────────────────────────────────┤
      └──► errors, outages                                                             │
    aligned ticks + plug-in events ─── with_latest_from ───────────────────────────────┴─► snapshots ─► sinks

    (refreshes hears evcc's and typed-in SoC to know whether a car was measured since it
    arrived; its own answers it keeps, so there is no cycle.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from reactivex import Observable
from reactivex import operators as ops

from smartload.domain import ConnectionEdge, Poll, PollError, RefreshOutcome, SiteState, Snapshot, SocReading, Tariffs
from smartload.settings import Settings
from smartload.streams.edges import connection_edges
from smartload.streams.polling import Outage, outages, poll_errors, site_states
from smartload.streams.refresh import RefreshPolicy, refreshes
from smartload.streams.soc import SocTable, evcc_socs, latest_socs, provider_socs
from smartload.streams.sync import merged
from smartload.streams.ticks import Trigger, aligned_ticks, at_most_every, snapshots
from smartload.streams.unplugged import departures, unplugged_refreshes
from smartload.vehicles.base import VehicleProvider


@dataclass(frozen=True)
class Graph:
    polls: Observable[Poll]
    states: Observable[SiteState]
    errors: Observable[PollError]
    outages: Observable[Outage]
    edges: Observable[ConnectionEdge]
    refreshes: Observable[RefreshOutcome]
    evcc_socs: Observable[SocReading]
    socs: Observable[SocTable]
    tariffs: Observable[Tariffs]
    snapshots: Observable[Snapshot]


def refresh_policies(settings: Settings) -> dict[str, RefreshPolicy]:
    policies = {}
    for vehicle in settings.vehicles:
        throttle, budget = settings.refresh_for(vehicle)
        policies[vehicle] = RefreshPolicy(
            throttle, budget, settings.refresh.backoff_initial, settings.refresh.backoff_max
        )
    return policies


# Sources that only repeat what evcc or a person said: asking them again tells nothing new.
_PASSIVE_SOURCES = ("evcc", "manual")


def _unplugged(states: Observable[SiteState], names: Mapping[str, str], settings: Settings,
               providers: Mapping[str, VehicleProvider]) -> list[Observable[ConnectionEdge]]:
    every = settings.refresh.while_unplugged
    asked = [v for v, p in providers.items() if v in settings.vehicles and p.name not in _PASSIVE_SOURCES]
    if every is None or not asked:
        return []
    return [unplugged_refreshes(states, names, asked, every)]


# The graph's mappers and predicates, typed (reactivex cannot infer a lambda's input).

def _has_forecast(state: SiteState) -> bool:
    return not state.forecast.is_empty()


def _forecast(state: SiteState) -> Tariffs:
    return state.forecast


def _same_tariffs(a: Tariffs, b: Tariffs) -> bool:
    return a is b or a == b


def _error_or_none(poll: Poll) -> PollError | None:
    return poll if isinstance(poll, PollError) else None


def _plug_in(edge: ConnectionEdge) -> Trigger:
    return (edge.at, f"{edge.reason} {edge.vehicle} at loadpoint {edge.loadpoint_id}")


def _has_grid_prices(state: SiteState) -> bool:
    return bool(state.forecast.grid)


def _last_grid_end(state: SiteState) -> datetime:
    return state.forecast.grid[-1].end


def _new_prices(state: SiteState) -> Trigger:
    return (state.at, "new prices")


def build_graph(
    polls: Observable[Poll],
    settings: Settings,
    providers: Mapping[str, VehicleProvider],
    until: Observable[object] | None = None,
    events: Observable[Trigger] | None = None,
    refresh_requests: Observable[ConnectionEdge] | None = None,
    manual_socs: Observable[SocReading] | None = None,
) -> Graph:
    """Wire the pipeline. `until` ends the clock-driven ticks (a replay's end of file);
    `events` are re-plan requests from the sinks (a car reached its target, a boost);
    `refresh_requests` are refreshes a person asked for (a lane of their own, sharing the
    daily budget with plug-ins: streams/refresh.py); `manual_socs` are SoC values a person
    entered."""
    names = settings.vehicles_by_evcc_name()
    states = site_states(polls).pipe(ops.share())
    edges = connection_edges(states, names, settings.vehicles).pipe(ops.share())
    from_evcc = evcc_socs(states, names).pipe(ops.share())
    typed_in = [manual_socs] if manual_socs is not None else []
    asked = merged(edges, *_unplugged(states, names, settings, providers),
                   *([refresh_requests] if refresh_requests is not None else []))
    # The refresh stream hears the readings that do not come from itself (it keeps its own
    # answers), so the SoC table below can depend on its outcomes without a cycle.
    outcomes = refreshes(asked, providers, refresh_policies(settings), settings.site.tz,
                         readings=merged(from_evcc, *typed_in),
                         departures=departures(states, names, providers)).pipe(ops.share())
    readings = [from_evcc, provider_socs(outcomes), *typed_in]
    socs = latest_socs(merged(*readings)).pipe(
        ops.replay(buffer_size=1), ops.ref_count()
    )
    # The parser hands out the same Tariffs object while evcc's forecast is unchanged, so
    # the identity check spares comparing hundreds of rates on every poll.
    priced = states.pipe(
        ops.filter(_has_forecast),
        ops.distinct_until_changed(_forecast, comparer=_same_tariffs),
        ops.share(),
    )
    tariffs = priced.pipe(ops.map(_forecast))
    last_error: Observable[PollError | None] = polls.pipe(
        ops.map(_error_or_none),
        ops.distinct_until_changed(),
    )
    ticks = aligned_ticks(settings.tick.period)
    if until is not None:
        ticks = ticks.pipe(ops.take_until(until))
    plug_ins = edges.pipe(ops.map(_plug_in))
    # New prices means a longer horizon (the next day's auction), not the slot that just
    # dropped off the front of the forecast.
    new_prices = priced.pipe(
        ops.filter(_has_grid_prices),
        ops.distinct_until_changed(_last_grid_end),
        ops.skip(1),
        ops.map(_new_prices),
    )
    on_events = merged(plug_ins, new_prices, *(
        [events] if events is not None else []
    )).pipe(
        # delay(0): the snapshot must see the poll that caused the event, which reaches the
        # snapshot's latest-state input only after the event's branch has seen it.
        ops.delay(0.0),
        at_most_every(settings.evcc.poll_interval),
    )
    triggers: Observable[Trigger] = merged(ticks.pipe(ops.map(lambda t: (t, "tick"))), on_events)
    return Graph(
        polls=polls,
        states=states,
        errors=poll_errors(polls),
        outages=outages(polls),
        edges=edges,
        refreshes=outcomes,
        evcc_socs=from_evcc,
        socs=socs,
        tariffs=tariffs,
        snapshots=snapshots(triggers, states, socs, tariffs, last_error),
    )
