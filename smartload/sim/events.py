"""What happens to the cars: trips, plug-ins, unplugs, identification and plug swaps.

Mixed into Site. Events are kept as due times; `next_event_at` lets the step loop skip
all of this with one comparison.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from loguru import logger

from smartload.sim.vehicle import Presence, SimVehicle, TripEvent

if TYPE_CHECKING:
    from smartload.sim.loadpoint import SimLoadpoint
    from smartload.sim.scenario import Scenario

log = logger.bind(component="sim")


class EventsMixin:
    scenario: Scenario
    loadpoints: list[SimLoadpoint]
    vehicles: dict[str, SimVehicle]
    t: float

    if TYPE_CHECKING:
        # Provided by Site.
        def local(self, t: float | None = None) -> str: ...
        def request_control(self) -> None: ...
        def loadpoint(self, lp_id: int) -> SimLoadpoint: ...
        def vehicle(self, name: str) -> SimVehicle: ...

    def _init_events(self) -> None:
        self.next_event_at = math.inf
        self._trips: dict[str, tuple[float, TripEvent, bool] | None] = {}
        self._waiting: list[str] = []
        self._swaps: dict[int, float] = {}
        now = self.t
        for name, v in self.vehicles.items():
            start = v.spec.start
            if start.state == "plugged":
                lp_id = start.loadpoint or v.spec.loadpoints[0]
                self._connect(v, self.loadpoint(lp_id), now)
            elif start.state == "home" and start.plug_in_after_s is not None:
                v.plug_request_at = now + start.plug_in_after_s
            if start.state == "away" and start.back_after_s is not None:
                self._trips[name] = (now + start.back_after_s, TripEvent.BACK, True)
            else:
                self._schedule_trip(v, now)
        self._refresh_next_event()

    def _schedule_trip(self, v: SimVehicle, now: float) -> None:
        found = v.next_trip_event(now)
        self._trips[v.name] = (found[0], found[1], False) if found else None

    def _refresh_next_event(self) -> None:
        times = [trip[0] for trip in self._trips.values() if trip is not None]
        times += [v.plug_request_at for v in self.vehicles.values() if v.plug_request_at is not None]
        times += [lp.detection_until for lp in self.loadpoints if lp.detection_until is not None]
        times += list(self._swaps.values())
        self.next_event_at = min(times, default=math.inf)

    def _process_events(self, now: float) -> None:
        for _ in range(1000):
            due: list[tuple[float, int, str]] = []
            due += [(trip[0], 0, name) for name, trip in self._trips.items() if trip and trip[0] <= now]
            due += [(v.plug_request_at, 1, v.name) for v in self.vehicles.values()
                    if v.plug_request_at is not None and v.plug_request_at <= now]
            due += [(lp.detection_until, 2, str(lp.id)) for lp in self.loadpoints
                    if lp.detection_until is not None and lp.detection_until <= now]
            due += [(at, 3, str(lp_id)) for lp_id, at in self._swaps.items() if at <= now]
            if not due:
                break
            at, kind, key = min(due)
            [self._trip_event, self._plug_request, self._detection_end, self._swap][kind](key, at)
        self._refresh_next_event()

    # --- handlers ---------------------------------------------------------------------------

    def _trip_event(self, name: str, at: float) -> None:
        v = self.vehicles[name]
        trip = self._trips[name]
        assert trip is not None
        _, kind, explicit = trip
        if kind is TripEvent.DEPART:
            if v.loadpoint_id is not None:
                self._disconnect(self.loadpoint(v.loadpoint_id), at, "leaves")
            if name in self._waiting:
                self._waiting.remove(name)
            v.depart()
            v.cloud.wake(v.soc_pct, at)
            log.info("{}: {} leaves (SoC {:.1f} %)", self.local(at), name, v.soc_pct)
        else:
            plugs = v.come_back(at, explicit)
            v.cloud.wake(v.soc_pct, at)
            log.info("{}: {} is back home (SoC {:.1f} %){}", self.local(at), name, v.soc_pct,
                     "" if plugs else ", not plugging in")
        self._schedule_trip(v, at)

    def _plug_request(self, name: str, at: float) -> None:
        v = self.vehicles[name]
        v.plug_request_at = None
        if v.presence is not Presence.HOME:
            return
        free = [lp for lp in (self.loadpoint(i) for i in v.spec.loadpoints) if lp.vehicle is None]
        if free:
            self._connect(v, free[0], at)
        elif name not in self._waiting:
            self._waiting.append(name)
            log.info("{}: {} waits for a free wallbox ({} occupied)", self.local(at), name,
                     ", ".join(f"loadpoint {i}" for i in v.spec.loadpoints))

    def _detection_end(self, key: str, at: float) -> None:
        lp = self.loadpoint(int(key))
        lp.detection_until = None
        v = lp.vehicle
        if v is None:
            return
        if v.spec.identifiable:
            lp.vehicle_name = v.name
            if self.scenario.evcc_reads_soc_on_identify:
                v.evcc_soc_pct = v.cloud.reading(at)[0]
            elif v.evcc_soc_pct is None:
                v.evcc_soc_pct = v.soc_pct
            log.info("{}: evcc identified {} at loadpoint {}", self.local(at), v.name, lp.id)
        else:
            log.info("{}: evcc could not identify the car at loadpoint {}: shown as guest", self.local(at), lp.id)
        self.request_control()

    def _swap(self, key: str, at: float) -> None:
        lp = self.loadpoint(int(key))
        del self._swaps[lp.id]
        waiting = self._waiter_for(lp)
        if lp.vehicle is None or waiting is None:
            return
        done = lp.vehicle.name
        self._disconnect(lp, at, f"the plug goes to {waiting.name}", offer=False)
        log.info("{}: plug swapped at loadpoint {}: {} out, {} in", self.local(at), lp.id, done, waiting.name)
        self._plug_after_gap(waiting, lp, at)

    def _plug_after_gap(self, v: SimVehicle, lp: SimLoadpoint, at: float) -> None:
        gap = self.scenario.swap_gap_s
        if gap > 0:
            v.plug_request_at = at + gap
        else:
            self._connect(v, lp, at)

    # --- plugging ---------------------------------------------------------------------------------

    def _waiter_for(self, lp: SimLoadpoint) -> SimVehicle | None:
        for name in self._waiting:
            v = self.vehicles[name]
            if lp.id in v.spec.loadpoints and v.presence is Presence.HOME:
                return v
        return None

    def _connect(self, v: SimVehicle, lp: SimLoadpoint, at: float) -> None:
        detection = v.spec.detection_s if v.spec.identifiable else self.scenario.detection_timeout_s
        lp.connect(v, at, detection)
        v.presence = Presence.PLUGGED
        v.loadpoint_id = lp.id
        v.plug_request_at = None
        if v.name in self._waiting:
            self._waiting.remove(v.name)
        v.cloud.wake(v.soc_pct, at)
        seen = "none" if v.evcc_soc_pct is None else f"{v.evcc_soc_pct:.0f} %"
        log.info("{}: {} plugged in at loadpoint {} '{}' (SoC {:.1f} %, evcc last saw {})",
                 self.local(at), v.name, lp.id, lp.title, v.soc_pct, seen)
        self.request_control()

    def _disconnect(self, lp: SimLoadpoint, at: float, why: str, offer: bool = True) -> None:
        v = lp.vehicle
        assert v is not None
        energy = lp.session_energy_wh / 1000.0
        lp.disconnect()
        self._swaps.pop(lp.id, None)
        v.presence = Presence.HOME
        v.loadpoint_id = None
        v.cloud.wake(v.soc_pct, at)
        log.info("{}: {} unplugged from loadpoint {} ({}; charged {:.2f} kWh, SoC {:.1f} %)",
                 self.local(at), v.name, lp.id, why, energy, v.soc_pct)
        waiting = self._waiter_for(lp) if offer else None
        if waiting is not None:
            waiting.plug_request_at = at + waiting.spec.plug_delay_s
        self.request_control()

    def _check_swaps(self, now: float) -> None:
        if not self.scenario.swap_when_done or not self._waiting:
            return
        for lp in self.loadpoints:
            v = lp.vehicle
            waiter = self._waiter_for(lp)
            if v is None or lp.id in self._swaps or waiter is None:
                continue
            target = min(v.spec.car_limit_soc_pct, float(lp.effective_limit_soc(self.vehicles)))
            if v.soc_pct >= target - 0.5:
                why = f"{v.name} is done"
            elif waiter.soc_pct < self.scenario.swap_below_soc_pct and v.soc_pct >= waiter.soc_pct + 20:
                why = f"{waiter.name} runs low ({waiter.soc_pct:.0f} %)"
            else:
                continue
            self._swaps[lp.id] = now + self.scenario.swap_delay_s
            log.info("{}: {} at loadpoint {}; the plug goes to {} in {:.0f} min",
                     self.local(now), why, lp.id, waiter.name, self.scenario.swap_delay_s / 60)
            self.next_event_at = min(self.next_event_at, self._swaps[lp.id])

    # --- controls for tests and demos -------------------------------------------------------------

    def plug_in(self, name: str, lp_id: int) -> None:
        """Plug a car in now (it comes home first if it was away)."""
        v = self.vehicle(name)
        lp = self.loadpoint(lp_id)
        if lp.vehicle is not None:
            raise ValueError(f"loadpoint {lp_id} is occupied by {lp.vehicle.name}")
        if v.loadpoint_id is not None:
            self._disconnect(self.loadpoint(v.loadpoint_id), self.t, "moved")
        was_away = v.presence is Presence.AWAY
        v.presence = Presence.HOME
        self._connect(v, lp, self.t)
        if was_away:
            self._schedule_trip(v, self.t)
        self._refresh_next_event()

    def unplug(self, name: str) -> None:
        """Unplug a car now; it stays at home."""
        v = self.vehicle(name)
        if v.loadpoint_id is None:
            raise ValueError(f"{name} is not plugged in")
        self._disconnect(self.loadpoint(v.loadpoint_id), self.t, "unplugged by hand")
        self._refresh_next_event()

    def hand_over(self, lp_id: int, name: str) -> None:
        """A person moves the plug at lp_id to `name` now (a car at home, not plugged in;
        plugged after the scenario's swap gap); the car that was plugged there waits for
        the wallbox again."""
        v = self.vehicle(name)
        lp = self.loadpoint(lp_id)
        if v.presence is not Presence.HOME:
            raise ValueError(f"{name} is not at home unplugged ({v.presence})")
        previous = lp.vehicle
        if previous is not None:
            self._disconnect(lp, self.t, f"the plug goes to {name}", offer=False)
            if previous.name not in self._waiting:
                self._waiting.append(previous.name)
        self._plug_after_gap(v, lp, self.t)
        self._refresh_next_event()

    def arrive(self, name: str, lp_id: int, soc_pct: float) -> None:
        """A session-driven car arrives with `soc_pct` and is plugged in at once. It is a new
        car as far as evcc knows: evcc reads its SoC when it identifies it."""
        v = self.vehicle(name)
        if v.presence is not Presence.AWAY:
            raise ValueError(f"{name} is not away ({v.presence})")
        v.soc_pct = soc_pct
        v.evcc_soc_pct = None
        self.plug_in(name, lp_id)

    def leave(self, name: str) -> None:
        """The car is unplugged (if it was) and drives away now."""
        v = self.vehicle(name)
        if v.loadpoint_id is not None:
            self._disconnect(self.loadpoint(v.loadpoint_id), self.t, "leaves")
        if name in self._waiting:
            self._waiting.remove(name)
        v.depart()
        v.cloud.wake(v.soc_pct, self.t)
        self._refresh_next_event()

    def restart_detection(self, lp_id: int) -> None:
        lp = self.loadpoint(lp_id)
        if lp.vehicle is not None:
            v = lp.vehicle
            lp.vehicle_name = ""
            lp.detection_until = self.t + (v.spec.detection_s if v.spec.identifiable
                                           else self.scenario.detection_timeout_s)
            self._refresh_next_event()

    def assign_vehicle(self, lp_id: int, name: str | None) -> None:
        """evcc's manual vehicle selection (None: guest). Ends a running detection."""
        lp = self.loadpoint(lp_id)
        if name is not None:
            v = self.vehicle(name)
            if v.evcc_soc_pct is None and v.loadpoint_id == lp_id:
                v.evcc_soc_pct = v.soc_pct
        lp.vehicle_name = name or ""
        lp.detection_until = None
        self._refresh_next_event()
        self.request_control()
