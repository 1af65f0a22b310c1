"""Connection edges: a vehicle going from not-connected to connected at a loadpoint.

The state stream is split into one presence observation per known vehicle and poll,
grouped by vehicle, and a seeded scan compares each observation with the previous one
(not start_with + pairwise: inside group_by that drops the group's first item).

Guest and identification: while evcc is still identifying the car
(`vehicleDetectionActive`) or calls it a guest (`vehicleName` ""), the loadpoint is
connected but no vehicle is; no edge is emitted, so no cloud is asked for a car we cannot
name. When identification ends with a name, that poll emits the edge (its plugged_at is
the first poll that showed the loadpoint connected). A guest that stays a guest never
produces an edge.

Swaps: at a shared wallbox one car can be unplugged and the next plugged in between two
polls, so no poll shows the loadpoint empty. A vehicle name giving way to another (or to
a new identification) starts a new session there: the next car's plugged_at is that
poll, not the first car's. The same car plugged in again between two polls shows as its
session's energy falling, and is a plug-in too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops
from reactivex.observable import GroupedObservable

from smartload.domain import ConnectionEdge, LoadpointState, SiteState, new_session
from smartload.streams.sync import expand


@dataclass(frozen=True, slots=True)
class Presence:
    """Where one vehicle was in one poll: at a loadpoint (since plugged_at) or away."""

    vehicle: str
    at: datetime
    loadpoint_id: int | None
    plugged_at: datetime | None
    first_poll: bool = False


def _presence_mapper(
    names: Mapping[str, str], known: Iterable[str]
) -> Callable[[SiteState], list[Presence]]:
    """Build the per-poll mapper; it remembers when each loadpoint became connected."""
    connected_since: dict[int, datetime] = {}
    # Per connected loadpoint as the last poll showed it, to tell a new session.
    sessions: dict[int, LoadpointState] = {}
    last_place: dict[str, tuple[int | None, datetime | None]] = {}
    known_ids = tuple(known)
    polls_seen = [0]

    def observe(state: SiteState) -> list[Presence]:
        first_poll = polls_seen[0] == 0
        polls_seen[0] += 1
        where: dict[str, tuple[int, datetime]] = {}
        for lp in state.loadpoints:
            if not lp.connected:
                connected_since.pop(lp.id, None)
                sessions.pop(lp.id, None)
                continue
            if new_session(sessions.get(lp.id), lp):
                # A swap between two polls: the next car's plug-in is now, not the last car's.
                connected_since[lp.id] = state.at
            sessions[lp.id] = lp
            since = connected_since.setdefault(lp.id, state.at)
            name = lp.identified_vehicle
            if name is not None:
                where[names.get(name, name)] = (lp.id, since)
        vehicles = dict.fromkeys(known_ids)
        vehicles.update(dict.fromkeys(names.get(v, v) for v in state.vehicles))
        vehicles.update(dict.fromkeys(where))
        # Only changes of place travel on: a car moves a few times a day, polls come every 10 s.
        changed = []
        for vehicle in vehicles:
            lp_id, since = where.get(vehicle, (None, None))
            if last_place.get(vehicle, (-1, None)) == (lp_id, since):
                continue
            last_place[vehicle] = (lp_id, since)
            changed.append(Presence(vehicle, state.at, lp_id, since, first_poll))
        return changed

    return observe


def _edge(previous: Presence | None, current: Presence) -> ConnectionEdge | None:
    if current.loadpoint_id is None or current.plugged_at is None:
        return None
    if previous is None and current.first_poll:
        return ConnectionEdge(current.vehicle, current.loadpoint_id, current.at, current.plugged_at, "startup")
    if previous is None or previous.loadpoint_id is None:
        return ConnectionEdge(current.vehicle, current.loadpoint_id, current.at, current.plugged_at, "plugged")
    if previous.loadpoint_id != current.loadpoint_id:
        return ConnectionEdge(current.vehicle, current.loadpoint_id, current.at, current.plugged_at, "moved")
    # Same loadpoint, another session: plugged in again between two polls.
    return ConnectionEdge(current.vehicle, current.loadpoint_id, current.at, current.plugged_at, "plugged")


def _per_vehicle(group: GroupedObservable[str, Presence]) -> Observable[ConnectionEdge]:
    seed: tuple[Presence | None, ConnectionEdge | None] = (None, None)
    return group.pipe(
        ops.scan(lambda acc, cur: (cur, _edge(acc[0], cur)), seed),
        ops.map(lambda acc: acc[1]),
        ops.filter(lambda edge: edge is not None),
    )


def connection_edges(
    states: Observable[SiteState],
    names: Mapping[str, str] | None = None,
    known: Iterable[str] = (),
) -> Observable[ConnectionEdge]:
    """Edges per vehicle: plugged (False→True), startup (first sight already plugged in),
    moved (from one loadpoint to another without a poll in between showing it away).

    names maps evcc vehicle names to smartload ids; known lists ids to track even when
    evcc's vehicles map does not mention them.
    """

    def build(_: object) -> Observable[ConnectionEdge]:
        observe = _presence_mapper(names or {}, known)  # fresh memory per subscription
        return states.pipe(
            expand(observe),
            ops.group_by(lambda p: p.vehicle),
            ops.flat_map(_per_vehicle),
        )

    return rx.defer(build)
