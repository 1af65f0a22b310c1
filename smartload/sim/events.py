"""What happens to the cars: trips, plug-ins, unplugs, identification and plug swaps.

Mixed into Site (the manual controls tests and what-ifs use are in controls.py). Events
are kept as due times; `next_event_at` lets the step loop skip all of this with one
comparison. An instant swap (swap_gap_s 0) is an unplug and a plug-in at the same
instant, so polls never see the wallbox empty; with `evcc_misses_instant_swaps` evcc does
not see it either and keeps the old session and vehicle.
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
            self._identify(lp, v)
            if v.offline:
                pass  # evcc never reads an offline template's SoC (vehicleSocPollAllowed)
            elif self.scenario.evcc_reads_soc_on_identify:
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
        if self._unseen_swap(lp, waiting, at):
            return
        done = lp.vehicle.name
        self._disconnect(lp, at, f"the plug goes to {waiting.name}", offer=False)
        log.info("{}: plug swapped at loadpoint {}: {} out, {} in", self.local(at), lp.id, done, waiting.name)
        self._plug_after_gap(waiting, lp, at)

    def _identify(self, lp: SimLoadpoint, v: SimVehicle) -> None:
        """evcc's setActiveVehicle: the car's name, and its own mode if it has one."""
        lp.vehicle_name = v.name
        if v.spec.mode is not None and lp.mode != v.spec.mode:
            lp.set_mode(v.spec.mode)
            log.info("{}: loadpoint {} takes {}'s mode {}", self.local(), lp.id, v.name, v.spec.mode)

    def _unseen_swap(self, lp: SimLoadpoint, into: SimVehicle, at: float) -> bool:
        """An instant swap evcc does not see (evcc_misses_instant_swaps): the cars change,
        evcc's session, limits and identified vehicle stay. False if evcc would see it."""
        out = lp.vehicle
        if out is None or self.scenario.swap_gap_s > 0 or not self.scenario.evcc_misses_instant_swaps:
            return False
        self._swaps.pop(lp.id, None)
        out.presence, out.loadpoint_id = Presence.HOME, None
        out.cloud.wake(out.soc_pct, at)
        lp.vehicle = into
        into.presence, into.loadpoint_id, into.plug_request_at = Presence.PLUGGED, lp.id, None
        if into.name in self._waiting:
            self._waiting.remove(into.name)
        into.cloud.wake(into.soc_pct, at)
        log.info("{}: plug swapped at loadpoint {} between two evcc cycles: {} out, {} in; evcc still shows {}",
                 self.local(at), lp.id, out.name, into.name, lp.vehicle_name or "a guest")
        self.request_control()
        return True

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
        lp.connect(v, at, detection, pv_timer_elapsed=self.scenario.evcc_pv_timer_elapsed_on_connect)
        v.presence = Presence.PLUGGED
        v.loadpoint_id = lp.id
        v.plug_request_at = None
        if v.name in self._waiting:
            self._waiting.remove(v.name)
        v.cloud.wake(v.soc_pct, at)
        seen = "none (offline template)" if v.offline else (
            "none" if v.evcc_soc_pct is None else f"{v.evcc_soc_pct:.0f} %")
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
