"""A simulated car: its battery, its trips, what evcc knows about it, and its cloud.

The car's true SoC and the SoC evcc shows differ on purpose: evcc polls the car only
while it charges (soc.poll.mode "charging"), so after a plug-in it shows the value from
the last time it charged, as the real evcc does (issues #18349, #29716).
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from smartload.settings.types import parse_clock
from smartload.sim.cloud import CarCloud
from smartload.sim.scenario import WEEKDAYS, TripSpec, VehicleSpec

TAPER_FROM_SOC = 80.0
_MIN_TAPER = 0.05


class Presence(StrEnum):
    AWAY = "away"
    HOME = "home"
    PLUGGED = "plugged"


class TripEvent(StrEnum):
    DEPART = "depart"
    BACK = "back"


def _clock(text: str) -> time:
    return time(*parse_clock(text))


class SimVehicle:
    def __init__(self, name: str, spec: VehicleSpec, tz: ZoneInfo, seed: int, now: float) -> None:
        self.name = name
        self.spec = spec
        self._tz = tz
        self._seed = seed
        self.soc_pct = spec.start.soc_pct
        self.presence = Presence(spec.start.state)
        self.loadpoint_id: int | None = None
        # What evcc shows; None until evcc has read the car once.
        self.evcc_soc_pct: float | None = spec.start.evcc_soc_pct
        self.min_soc_pct = spec.min_soc_pct
        self.limit_soc_pct = spec.limit_soc_pct
        self.plan_soc_pct = 0.0
        self.plan_time: float | None = None
        self.odometer_km = 0.0
        self.cloud = CarCloud(name, spec.cloud, tz, self.soc_pct, now)
        self.next_wake = 0.0
        self.plug_request_at: float | None = None
        self._trip_energy_kwh = 0.0
        self._trip_plugs = True

    @property
    def offline(self) -> bool:
        """evcc's template has no SoC (features ["Offline"]): evcc never knows it."""
        return self.spec.template == "offline"

    @property
    def capacity_wh(self) -> float:
        return self.spec.capacity_kwh * 1000.0

    def max_power_w(self, dt_s: float) -> float:
        """What the car accepts now: its limit, the taper above 80 %, no overfilling."""
        soc = self.soc_pct
        if soc >= self.spec.car_limit_soc_pct:
            return 0.0
        power = self.spec.max_charge_w
        if soc > TAPER_FROM_SOC:
            power *= max(_MIN_TAPER, (100.0 - soc) / (100.0 - TAPER_FROM_SOC))
        room_wh = (self.spec.car_limit_soc_pct - soc) / 100.0 * self.capacity_wh / self.spec.charge_efficiency
        return min(power, room_wh * 3600.0 / dt_s)

    def charge(self, power_w: float, dt_s: float) -> None:
        stored_wh = power_w * dt_s / 3600.0 * self.spec.charge_efficiency
        self.soc_pct = min(100.0, self.soc_pct + stored_wh / self.capacity_wh * 100.0)

    # --- trips ---------------------------------------------------------------------

    def _trip_instants(self, index: int, trip: TripSpec, day: datetime) -> tuple[float, float, random.Random]:
        rnd = random.Random(f"{self._seed}:{self.name}:{index}:{day.date().isoformat()}")
        jitter = trip.jitter_min * 60.0
        depart_local = datetime.combine(day.date(), _clock(trip.depart), tzinfo=self._tz)
        nights = trip.nights if trip.nights is not None else (1 if trip.back <= trip.depart else 0)
        back_date = day.date() + timedelta(days=nights)
        back_local = datetime.combine(back_date, _clock(trip.back), tzinfo=self._tz)
        depart = depart_local.timestamp() + rnd.uniform(-jitter, jitter)
        back = back_local.timestamp() + rnd.uniform(-jitter, jitter)
        return depart, max(back, depart + 600.0), rnd

    def next_trip_event(self, after: float) -> tuple[float, TripEvent] | None:
        """The next departure (car at home) or return (car away) strictly after `after`."""
        wanted = TripEvent.BACK if self.presence is Presence.AWAY else TripEvent.DEPART
        base = datetime.fromtimestamp(after, self._tz)
        best: tuple[float, int, random.Random] | None = None
        for offset in range(-7, 9):
            day = base + timedelta(days=offset)
            weekday = WEEKDAYS[day.weekday()]
            for index, trip in enumerate(self.spec.trips):
                if weekday not in trip.days:
                    continue
                depart, back, rnd = self._trip_instants(index, trip, day)
                instant = back if wanted is TripEvent.BACK else depart
                if instant > after and (best is None or instant < best[0]):
                    best = (instant, index, rnd)
        if best is None:
            return None
        instant, index, rnd = best
        if wanted is TripEvent.BACK:
            trip = self.spec.trips[index]
            self._trip_energy_kwh = trip.energy_kwh * rnd.uniform(1 - trip.energy_spread, 1 + trip.energy_spread)
            self._trip_plugs = rnd.random() < trip.plug_probability
        return instant, wanted

    def depart(self) -> None:
        self.presence = Presence.AWAY
        self.loadpoint_id = None
        self.plug_request_at = None

    def come_back(self, now: float, explicit: bool) -> bool:
        """Back home; returns whether the car will be plugged in (after plug_delay_s)."""
        self.presence = Presence.HOME
        if not explicit:
            used = min(self._trip_energy_kwh, self.soc_pct / 100.0 * self.spec.capacity_kwh)
            self.soc_pct -= used / self.spec.capacity_kwh * 100.0
            self.odometer_km += used * self.spec.km_per_kwh
        plugs = explicit or self._trip_plugs
        self.plug_request_at = now + self.spec.plug_delay_s if plugs else None
        return plugs
