"""Manual controls of the simulated site, for tests, demos and what-ifs: plug a car in or
out, hand the plug over, a session car arriving and leaving, and evcc's vehicle
selection and detection (the API's POST/DELETE/PATCH .../vehicle).

Mixed into Site beside EventsMixin, whose plugging helpers these use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartload.sim.vehicle import Presence

if TYPE_CHECKING:
    from smartload.sim.loadpoint import SimLoadpoint
    from smartload.sim.scenario import Scenario
    from smartload.sim.vehicle import SimVehicle


class ControlsMixin:
    scenario: Scenario
    t: float
    _waiting: list[str]

    if TYPE_CHECKING:
        # Provided by Site and EventsMixin.
        def loadpoint(self, lp_id: int) -> SimLoadpoint: ...
        def vehicle(self, name: str) -> SimVehicle: ...
        def request_control(self) -> None: ...
        def _refresh_next_event(self) -> None: ...
        def _schedule_trip(self, v: SimVehicle, now: float) -> None: ...
        def _connect(self, v: SimVehicle, lp: SimLoadpoint, at: float) -> None: ...
        def _disconnect(self, lp: SimLoadpoint, at: float, why: str, offer: bool = True) -> None: ...
        def _plug_after_gap(self, v: SimVehicle, lp: SimLoadpoint, at: float) -> None: ...
        def _identify(self, lp: SimLoadpoint, v: SimVehicle) -> None: ...
        def _unseen_swap(self, lp: SimLoadpoint, into: SimVehicle, at: float) -> bool: ...

    def plug_in(self, name: str, lp_id: int) -> None:
        """Plug a car in now (it comes home first if it was away)."""
        v = self.vehicle(name)
        lp = self.loadpoint(lp_id)
        if lp.device is not None:
            raise ValueError(f"loadpoint {lp_id} is a heat pump: it takes no car")
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
        if lp.device is not None:
            raise ValueError(f"loadpoint {lp_id} is a heat pump: it takes no car")
        if v.presence is not Presence.HOME:
            raise ValueError(f"{name} is not at home unplugged ({v.presence})")
        previous = lp.vehicle
        if previous is not None:
            if not self._unseen_swap(lp, v, self.t):
                self._disconnect(lp, self.t, f"the plug goes to {name}", offer=False)
                self._plug_after_gap(v, lp, self.t)
            if previous.name not in self._waiting:
                self._waiting.append(previous.name)
        else:
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
        """evcc's manual vehicle selection (None: guest). Ends a running detection; the car's
        own mode applies as on identification (evcc's SetVehicle -> setActiveVehicle)."""
        lp = self.loadpoint(lp_id)
        if name is not None:
            v = self.vehicle(name)
            if v.evcc_soc_pct is None and v.loadpoint_id == lp_id and not v.offline:
                v.evcc_soc_pct = v.soc_pct
            self._identify(lp, v)
        else:
            lp.vehicle_name = ""
        lp.detection_until = None
        self._refresh_next_event()
        self.request_control()
