"""What the sequencer sees of trips, told to the habit learner (smartload/habits.py), and
the learned habits put back into the plan as expected arrivals (planner/expected.py).

A car leaves when it unplugs for its own departure: not for a swap a handoff asked for,
and not when another car is plugged into the same wallbox within SWAP_WINDOW (a person
swapping the plug of a car that is done; that car stays home). It is back when it plugs
in by itself (a handoff's plug-in is of a car that was already home) or when a reading
measured after it left, from an hour before its usual arrival on, shows less charge than
it left with: the car was driven and, unplugged, waits for a shared wallbox (earlier, it
is parked elsewhere). Its arrival SoC is the first reading measured at
or after the plug-in. A car that waits unplugged at a shared wallbox leaves unseen: when
the departure its driver gave passes while it is not plugged in, it is taken to have
left then (away, but no departure time is learned from it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from smartload.domain import SocReading
from smartload.habits import ColdStart, ExpectedArrival, HabitBook
from smartload.settings import Settings
from smartload.settings.types import parse_clock

if TYPE_CHECKING:
    from smartload.planner import CarInput

# A reading this much below the SoC a car left with means it was driven (percentage points).
DRIVEN_PCT = 2.0
# A reading from this long before the plug-in still counts as the car's SoC on arrival.
READING_SLACK = timedelta(minutes=1)
# An unplug followed this soon by another car at the same wallbox is a swap, not a trip.
SWAP_WINDOW = timedelta(minutes=15)


def cold_starts(settings: Settings) -> dict[str, ColdStart]:
    """The per-car habits the owner gave in settings (usual_arrival & co.)."""
    def minutes(clock: str | None) -> float | None:
        if clock is None:
            return None
        hour, minute = parse_clock(clock)
        return float(hour * 60 + minute)

    return {name: ColdStart(minutes(v.usual_arrival), v.usual_arrival_soc_pct, minutes(v.usual_departure))
            for name, v in settings.vehicles.items()}


class HabitWatch:
    """Between the sequencer and the learner. `enabled` (planning.expected_arrivals) puts
    expected cars into the plan; the habits are learned either way."""

    def __init__(self, book: HabitBook, enabled: bool) -> None:
        self.book = book
        self.enabled = enabled
        self._socs: dict[str, SocReading] = {}
        self._arriving: dict[str, datetime] = {}
        # Unplugs not yet known to be trips: vehicle -> (when, wallbox, announced departure, SoC).
        self._unplugged: dict[str, tuple[datetime, int, datetime | None, float | None]] = {}
        # The departure each car's request in force gave, as of the last plan.
        self._departures: dict[str, datetime] = {}

    def unplugged(self, vehicle: str, at: datetime, wallbox: int, announced: datetime | None) -> None:
        self._arriving.pop(vehicle, None)
        reading = self._socs.get(vehicle)
        self._unplugged[vehicle] = (at, wallbox, announced, None if reading is None else reading.soc_pct)

    def _settle(self, now: datetime) -> None:
        """Unplugs that no swap followed within SWAP_WINDOW were trips, from their unplug."""
        for vehicle, (at, _, announced, soc) in list(self._unplugged.items()):
            if now - at >= SWAP_WINDOW:
                del self._unplugged[vehicle]
                self.book.departed(vehicle, at, soc, announced)

    def plugged(self, vehicle: str, at: datetime, wallbox: int, by_handoff: bool) -> None:
        self._settle(at)
        if self._unplugged.pop(vehicle, None) is not None:
            return  # back at once: the cable, not a trip
        swapped = [v for v, (_, box, _, _) in self._unplugged.items() if box == wallbox]
        for other in swapped:  # the plug went to this car: the other one stays home
            del self._unplugged[other]
        if by_handoff or swapped:
            # It was home already, waiting for the wallbox: its arrival time is unknown.
            self.book.back_unseen(vehicle)
        elif self.book.is_away(vehicle):
            self._arriving[vehicle] = at

    def request_seen(self, vehicle: str, departure: datetime, plugged: bool, now: datetime) -> None:
        """The request in force gives `departure`; a departure that passed while the car
        was not plugged in is when it left."""
        before = self._departures.get(vehicle)
        self._departures[vehicle] = departure
        if plugged or before is None or before == departure or before > now:
            return
        if vehicle not in self._unplugged and vehicle not in self._arriving:
            reading = self._socs.get(vehicle)
            self.book.left_unseen(vehicle, before, None if reading is None else reading.soc_pct)

    def readings(self, now: datetime, socs: Mapping[str, SocReading]) -> None:
        """Newest readings: an arrival's SoC, or a car back home seen through its cloud."""
        self._settle(now)
        for vehicle, reading in socs.items():
            before = self._socs.get(vehicle)
            self._socs[vehicle] = reading
            arriving = self._arriving.get(vehicle)
            if arriving is not None:
                if reading.measured_at >= arriving - READING_SLACK and reading.measured_at_known:
                    del self._arriving[vehicle]
                    self.book.arrived(vehicle, arriving, reading.soc_pct)
                continue
            away = self.book.away(vehicle)
            if (away is not None and reading is not before and reading.measured_at > away.since
                    and away.soc_pct is not None and reading.soc_pct < away.soc_pct - DRIVEN_PCT
                    and self.book.due(vehicle, reading.measured_at)):
                self.book.arrived(vehicle, reading.measured_at, reading.soc_pct)

    def expected(self, vehicle: str, now: datetime) -> ExpectedArrival | None:
        self._settle(now)
        if not self.enabled or vehicle in self._arriving:
            return None
        return self.book.expected(vehicle, now)

    def plan_car(self, car: CarInput, now: datetime) -> CarInput:
        """The planner car of a car not plugged in: expected from its usual arrival while it
        is on the road, else unchanged."""
        from smartload.planner.expected import expected_car

        arrival = self.expected(car.name, now) if car.wallbox_id is None else None
        if arrival is None:
            return car
        return expected_car(car, now, arrival.at, arrival.soc_pct, arrival.probability)
