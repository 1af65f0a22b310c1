"""Connection edges: a vehicle going from not-connected to connected at a loadpoint.

The stream is the one the design card draws: each poll mapped on its own, grouped by
vehicle, a pair per poll, a filter for False→True.

    defer(states ─distinct_until_changed(edges_read)─► ─map_indexed(numbered)─► (poll, first?)
      ─expand(presences)─► one Presence per vehicle and poll ─group_by(vehicle)─►
      per vehicle: ─scan(follow, Track())─► ─filter(plugs_in)─► ─map(edge)─►) ConnectionEdge

A Presence is one poll alone: the loadpoint evcc shows the car identified at (connected,
identification over) and the poll's loadpoints, which the session rule
(domain.new_session) compares with the last poll's: connected, vehicle name,
identification, session energy. Every vehicle in `known`, in evcc's vehicles map or
identified at a loadpoint gets one in every poll that lists it. What spans polls lives in
each vehicle's scan accumulator: since when each connected loadpoint's session runs (for
plugged_at), and where the car was at its last poll.

A seeded scan rather than start_with + pairwise: inside group_by, start_with drops the
group's first item (reference/python-stack.md §1.6), which is a car's start-up or first
plug-in; and a pair alone cannot tell since when a loadpoint has been connected.

Only polls that differ in what the edges read (EDGES_READ of each loadpoint, and which
vehicles evcc lists) travel on: polls come every 10 s, a car is plugged in a few times a
day, and every poll that does travel costs one scan step per vehicle. A poll equal to the
last in all of that would change no place and start no session.

Cases (each has a test in tests/test_streams_edges.py):

- Plug-in ("plugged"): a poll shows the car at a connected loadpoint after its last poll
  showed it at none. The edge is that poll; plugged_at is when the loadpoint's session began.
- Start-up ("startup"): the first poll after subscribing shows the car plugged in already.
  A car first listed in a later poll, already plugged in, is "plugged"; so is a car evcc
  was still identifying at the first poll, once named (plugged_at: the first poll).
- Move ("moved"): the car is at another loadpoint than at its last poll, and no poll in
  between showed it away; plugged_at is when the session at the new loadpoint began. A
  poll showing it at none in between makes the next loadpoint a plug-in.
- Identification: while evcc is still identifying the car (`vehicleDetectionActive`) or
  calls it a guest (`vehicleName` ""), the loadpoint is connected but no vehicle is; no
  edge is emitted, so no cloud is asked for a car we cannot name. When identification
  ends with a name, that poll emits the edge, and its plugged_at is the first poll that
  showed the loadpoint connected. A guest that stays a guest never produces an edge.
- Swaps: at a shared wallbox one car can be unplugged and the next plugged in between two
  polls, so no poll shows the loadpoint empty. A vehicle name giving way to another (or
  to a new identification) starts a new session there: the next car's plugged_at is that
  poll, not the first car's (the car swapped out gets no edge). The same car plugged in
  again between two polls shows as its session's energy falling, and is "plugged" too.

Each vehicle keeps its own view of the loadpoints, built from the polls that list it. A
car that is neither in `known` nor in evcc's vehicles map is listed only by the polls that
show it at a loadpoint, so its plugged_at can count only from those.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from datetime import datetime
from operator import attrgetter
from types import MappingProxyType
from typing import NamedTuple

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops
from reactivex.observable import GroupedObservable

from smartload.domain import ConnectionEdge, EdgeReason, LoadpointState, SiteState, new_session
from smartload.streams.sync import expand

# The loadpoint fields the edges read: new_session's inputs and identified_vehicle's
# (tests/test_streams_edges.py checks that no other field changes either).
EDGES_READ = ("id", "connected", "vehicle_name", "vehicle_detection_active", "heating",
              "integrated_device", "session_energy_wh")
_read = attrgetter(*EDGES_READ)


def edges_read(state: SiteState) -> Hashable:
    """What of one poll the edges depend on, its time aside."""
    return tuple(map(_read, state.loadpoints)), tuple(state.vehicles)


# NamedTuples rather than frozen dataclasses: one of each is built per vehicle and poll.
class Presence(NamedTuple):
    """One vehicle in one poll: the connected loadpoint evcc shows it identified at (None:
    at none), and the poll's loadpoints for the session rule."""

    vehicle: str
    at: datetime
    loadpoint_id: int | None
    loadpoints: tuple[LoadpointState, ...]
    first_poll: bool = False


def presences(
    poll: tuple[SiteState, bool], names: Mapping[str, str], known: Iterable[str]
) -> list[Presence]:
    """One poll, on its own, as one Presence per vehicle it lists: the known ids, evcc's
    vehicles map and every car identified at a connected loadpoint (names maps evcc's
    names to smartload's ids)."""
    state, first_poll = poll
    where: dict[str, int] = {}
    for lp in state.loadpoints:
        name = lp.identified_vehicle if lp.connected else None
        if name is not None:
            where[names.get(name, name)] = lp.id
    vehicles = dict.fromkeys(known)
    vehicles.update(dict.fromkeys(names.get(v, v) for v in state.vehicles))
    vehicles.update(dict.fromkeys(where))
    return [Presence(v, state.at, where.get(v), state.loadpoints, first_poll) for v in vehicles]


class Session(NamedTuple):
    """A connected loadpoint as a vehicle's last poll showed it, and since when its session runs."""

    shown: LoadpointState
    since: datetime


class Place(NamedTuple):
    """A car at a loadpoint, in the session that began at plugged_at."""

    loadpoint_id: int
    plugged_at: datetime


class Track(NamedTuple):
    """One vehicle's scan accumulator: the sessions of the connected loadpoints, and the
    car's place at its last poll (before) and at this one (now), the pair pairwise would
    give. The seed is the vehicle before its first poll: no sessions, at no loadpoint."""

    sessions: Mapping[int, Session] = MappingProxyType({})
    before: Place | None = None
    now: Place | None = None
    poll: Presence | None = None


def follow(track: Track, presence: Presence) -> Track:
    at, sessions = presence.at, dict(track.sessions)
    for lp in presence.loadpoints:
        if not lp.connected:
            sessions.pop(lp.id, None)
            continue
        last = sessions.get(lp.id)
        # Connected since this poll, or a swap between two polls: the next car's plug-in
        # is now, not the last car's.
        since = at if last is None or new_session(last.shown, lp) else last.since
        sessions[lp.id] = Session(lp, since)
    lp_id = presence.loadpoint_id
    session = sessions.get(lp_id) if lp_id is not None else None
    now = Place(lp_id, session.since) if lp_id is not None and session is not None else None
    return Track(sessions, track.now, now, presence)


def plugs_in(track: Track) -> bool:
    """False→True: the car is at a loadpoint, and was not there, or not in this session,
    at its last poll."""
    return track.now is not None and track.now != track.before


def edge(track: Track) -> ConnectionEdge:
    now, before, poll = track.now, track.before, track.poll
    assert now is not None and poll is not None, "plugs_in lets only a placed poll through"
    reason: EdgeReason
    if poll.first_poll:
        reason = "startup"
    elif before is not None and before.loadpoint_id != now.loadpoint_id:
        reason = "moved"
    else:
        # From no loadpoint, or at the same loadpoint in another session (plugged in again
        # between two polls).
        reason = "plugged"
    return ConnectionEdge(poll.vehicle, now.loadpoint_id, poll.at, now.plugged_at, reason)


def vehicle_of(presence: Presence) -> str:
    return presence.vehicle


def per_vehicle(group: GroupedObservable[str, Presence]) -> Observable[ConnectionEdge]:
    return group.pipe(
        ops.scan(follow, Track()),
        ops.filter(plugs_in),
        ops.map(edge),
    )


def connection_edges(
    states: Observable[SiteState],
    names: Mapping[str, str] | None = None,
    known: Iterable[str] = (),
) -> Observable[ConnectionEdge]:
    """Edges per vehicle: plugged (False→True), startup (first poll, already plugged in),
    moved (from one loadpoint to another without a poll in between showing it away).

    names maps evcc vehicle names to smartload ids; known lists ids to track even when
    evcc's vehicles map does not mention them. Every subscription starts from a clean
    memory: the scans and the poll count are its own.
    """
    evcc_names, known_ids = dict(names or {}), tuple(known)

    def numbered(state: SiteState, index: int) -> tuple[SiteState, bool]:
        return state, index == 0

    def listed(poll: tuple[SiteState, bool]) -> list[Presence]:
        return presences(poll, evcc_names, known_ids)

    def build(_: object) -> Observable[ConnectionEdge]:
        return states.pipe(
            ops.distinct_until_changed(edges_read),
            ops.map_indexed(numbered),
            expand(listed),
            ops.group_by(vehicle_of),
            ops.flat_map(per_vehicle),
        )

    # A pipe per subscription: map_indexed counts with one iterator per pipe, shared by
    # every subscription to it (reactivex 6.1), so a second one would see no first poll.
    return rx.defer(build)
