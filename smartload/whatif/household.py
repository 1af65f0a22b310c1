"""What the household's drivers announce, and the stays perfect foresight sees.

Drivers announce their usual departure per weekday: the scenario's trip time minus its
jitter, i.e. the earliest they may leave (they know their routine, not the day's
delay). The optimum instead sees each stay exactly as the simulator will play it: the
same seeded trips, computed here with the simulator's own vehicle model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from smartload.settings.types import parse_clock
from smartload.sim.scenario import WEEKDAYS, Scenario, VehicleSpec, Weekday
from smartload.sim.vehicle import Presence, SimVehicle, TripEvent
from smartload.whatif.evcc_port import utc


def target_soc_pct(spec: VehicleSpec, default_pct: float) -> float:
    """The car's charge target: its limit in evcc, else the planning default."""
    return spec.limit_soc_pct if spec.limit_soc_pct > 0 else default_pct


def announced_departures(spec: VehicleSpec) -> dict[Weekday, str | None]:
    """Weekday -> "HH:MM": the earliest trip of that day, minus its jitter."""
    schedule: dict[Weekday, str | None] = dict.fromkeys(WEEKDAYS)
    for trip in spec.trips:
        hour, minute = parse_clock(trip.depart)
        total = max(0, hour * 60 + minute - round(trip.jitter_min))
        clock = f"{total // 60:02d}:{total % 60:02d}"
        for day in trip.days:
            current = schedule[day]
            if current is None or clock < current:
                schedule[day] = clock
    return schedule


@dataclass(frozen=True)
class HomeStay:
    """A car at home from `plug_from` (it can be plugged in) until `departure`; None if it
    leaves after the period. soc_on_arrival_pct assumes every earlier stay reached its target."""

    vehicle: str
    index: int
    plug_from: datetime
    departure: datetime | None
    soc_on_arrival_pct: float


def home_stays(scenario: Scenario, start: datetime, end: datetime, seed: int,
               targets: dict[str, float]) -> list[HomeStay]:
    """Every stay of every car in [start, end), as Site plays the scenario's trips."""
    tz = ZoneInfo(scenario.timezone)
    t0, t_end = start.timestamp(), end.timestamp()
    stays: list[HomeStay] = []
    for name, spec in scenario.vehicles.items():
        v = SimVehicle(name, spec, tz, seed, t0)
        target = targets[name]
        first = spec.start
        plug_from: float | None = None
        if first.state == "plugged":
            plug_from = t0
        elif first.state == "home" and first.plug_in_after_s is not None:
            plug_from = t0 + first.plug_in_after_s
        soc = leave = first.soc_pct
        if first.state == "away" and first.back_after_s is not None:
            event: tuple[float, TripEvent, bool] | None = (t0 + first.back_after_s, TripEvent.BACK, True)
        else:
            found = v.next_trip_event(t0)
            event = (found[0], found[1], False) if found else None
        index = 0
        while event is not None and event[0] < t_end:
            at, kind, explicit = event
            if kind is TripEvent.DEPART:
                if plug_from is not None:
                    stays.append(HomeStay(name, index, utc(plug_from), utc(at), soc))
                    leave = max(target, soc)
                else:
                    leave = soc
                index += 1
                v.depart()
                plug_from = None
            else:
                # The car comes back with what it left with, less the trip (as the simulator draws it).
                v.soc_pct = leave
                plugs = v.come_back(at, explicit)
                soc = v.soc_pct
                plug_from = at + spec.plug_delay_s if plugs else None
            found = v.next_trip_event(at)
            event = (found[0], found[1], False) if found else None
        if plug_from is not None and plug_from < t_end and v.presence is not Presence.AWAY:
            stays.append(HomeStay(name, index, utc(plug_from), None, soc))
    return stays
