"""What a what-if run measures on the site, step by step: peaks, and each car's stays.

A *stay* is one charging opportunity with a deadline: from a car's arrival (home from a
trip, or an ACN session's arrival) to its departure. It requests the energy (AC, at the
wallbox) that brings the car from its SoC on arrival to its target. A car within
REACHED_MARGIN_PCT of its target has reached it (smartload's sequencer stops there, and
SoC readings resolve no finer); it is missed when it leaves more than MISS_TOLERANCE_KWH
short of that.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from smartload.sim.site import Site
from smartload.sim.vehicle import Presence

MISS_TOLERANCE_KWH = 0.5
REACHED_MARGIN_PCT = 0.5
_SLOT_S = 900.0


@dataclass
class Stay:
    id: str
    vehicle: str
    arrival: float
    target_soc_pct: float
    soc_on_arrival_pct: float
    requested_kwh: float
    capacity_kwh: float
    efficiency: float
    delivered_kwh: float = 0.0
    departure: float | None = None
    soc_on_departure_pct: float | None = None

    @property
    def shortfall_kwh(self) -> float:
        """AC energy still missing to the target when the car left (0 while it stays)."""
        if self.soc_on_departure_pct is None:
            return 0.0
        missing = max(0.0, self.target_soc_pct - REACHED_MARGIN_PCT - self.soc_on_departure_pct)
        return min(self.requested_kwh, missing / 100.0 * self.capacity_kwh / self.efficiency)

    @property
    def missed(self) -> bool:
        return self.departure is not None and self.shortfall_kwh > MISS_TOLERANCE_KWH


def requested_ac_kwh(soc_pct: float, target_pct: float, capacity_kwh: float, efficiency: float) -> float:
    return max(0.0, target_pct - soc_pct) / 100.0 * capacity_kwh / efficiency


@dataclass
class StayBook:
    """Stays by vehicle; the meter adds each car's charged energy to its open stay."""

    stays: list[Stay] = field(default_factory=list)
    open: dict[str, Stay] = field(default_factory=dict)
    _count: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def arrive(self, site: Site, vehicle: str, at: float, target_pct: float, stay_id: str | None = None) -> Stay:
        v = site.vehicle(vehicle)
        spec = v.spec
        if stay_id is None:
            stay_id = f"{vehicle}#{self._count[vehicle]}"
            self._count[vehicle] += 1
        stay = Stay(stay_id, vehicle, at, target_pct, v.soc_pct,
                    requested_ac_kwh(v.soc_pct, target_pct, spec.capacity_kwh, spec.charge_efficiency),
                    spec.capacity_kwh, spec.charge_efficiency)
        self.stays.append(stay)
        self.open[vehicle] = stay
        return stay

    def depart(self, site: Site, vehicle: str, at: float) -> None:
        stay = self.open.pop(vehicle, None)
        if stay is not None:
            stay.departure = at
            stay.soc_on_departure_pct = site.vehicle(vehicle).soc_pct

    def charged(self, vehicle: str, kwh: float) -> None:
        stay = self.open.get(vehicle)
        if stay is not None:
            stay.delivered_kwh += kwh


class SiteMeter:
    """Peak import (per step and per quarter-hour), the energy each car took, and, for
    trip-driven cars, their stays from presence changes."""

    def __init__(self, site: Site, book: StayBook, targets: dict[str, float], track_trips: bool) -> None:
        self.book = book
        self.peak_import_w = 0.0
        self._slot = -1.0
        self._slot_wh = 0.0
        self.peak_import_15min_w = 0.0
        self.car_wh: dict[str, float] = defaultdict(float)
        self._lp_wh = {lp.id: lp.total_import_wh for lp in site.loadpoints}
        self._occupant = {lp.id: lp.vehicle.name if lp.vehicle else None for lp in site.loadpoints}
        self._targets = targets
        self._track = track_trips
        self._away = {name: v.presence is Presence.AWAY for name, v in site.vehicles.items()}
        self.battery_start_kwh = site.battery.energy_wh / 1000.0 if site.battery else 0.0
        if track_trips:
            for name, away in self._away.items():
                if not away:
                    book.arrive(site, name, site.t, targets[name])

    def __call__(self, site: Site, dt_s: float) -> None:
        grid = site.grid_w
        if grid > self.peak_import_w:
            self.peak_import_w = grid
        begin = site.t - dt_s
        slot = begin - begin % _SLOT_S
        if slot != self._slot:
            self._close_slot()
            self._slot = slot
        if grid > 0:
            self._slot_wh += grid * dt_s / 3600.0
        for lp in site.loadpoints:
            # A car that leaves at the end of a step has charged in it, so the energy goes by
            # the loadpoint's meter to the car there now, else to the car that was there.
            wh = lp.total_import_wh - self._lp_wh.get(lp.id, 0.0)
            self._lp_wh[lp.id] = lp.total_import_wh
            car = lp.vehicle.name if lp.vehicle is not None else self._occupant.get(lp.id)
            self._occupant[lp.id] = lp.vehicle.name if lp.vehicle is not None else None
            if wh > 0 and car is not None:
                self.car_wh[car] += wh
                self.book.charged(car, wh / 1000.0)
        if self._track:
            self._presence(site)

    def _close_slot(self) -> None:
        self.peak_import_15min_w = max(self.peak_import_15min_w, self._slot_wh * 3600.0 / _SLOT_S)
        self._slot_wh = 0.0

    def _presence(self, site: Site) -> None:
        for name, v in site.vehicles.items():
            away = v.presence is Presence.AWAY
            if away == self._away[name]:
                continue
            self._away[name] = away
            if away:
                self.book.depart(site, name, site.t)
            else:
                self.book.arrive(site, name, site.t, self._targets[name])

    def finish(self) -> None:
        self._close_slot()
