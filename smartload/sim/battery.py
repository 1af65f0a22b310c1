"""The home battery: its inverter's physics and evcc's battery-mode semantics.

evcc (core/site_battery.go) derives the battery mode every cycle in this order: an
external mode set through the API (which expires 60 s after the last POST, then evcc
returns the battery to normal once); grid charging while the planner price is at or
below batteryGridChargeLimit (charge); discharge control while a loadpoint fast-charges
or smart-charges (hold); otherwise back to normal if it was modified. "unknown" means
evcc has never touched the battery. A battery evcc cannot control (BatterySpec.controllable
false) never takes an external mode, and the inverter ignores whatever mode evcc derives.
"""

from __future__ import annotations

import math

from smartload.sim.scenario import BatterySpec

MODES = ("unknown", "normal", "hold", "charge", "holdcharge")
EXTERNAL_MODE_TTL_S = 60.0


class HomeBattery:
    """Inverter behaviour by mode. Power is AC side; positive charge, positive discharge."""

    def __init__(self, spec: BatterySpec) -> None:
        self.spec = spec
        self.capacity_wh = spec.capacity_kwh * 1000.0
        self.soc_pct = spec.soc_pct
        # Round-trip losses split evenly between charging and discharging.
        self._eta = math.sqrt(spec.round_trip_efficiency)
        self.charged_wh = 0.0
        self.discharged_wh = 0.0

    def flows(self, surplus_w: float, mode: str, dt_s: float) -> tuple[float, float]:
        """(charge W, discharge W) answering an AC surplus (negative: deficit) for dt_s."""
        spec = self.spec
        hours = dt_s / 3600.0
        room_w = max(0.0, (100.0 - self.soc_pct) / 100.0 * self.capacity_wh / self._eta / hours)
        stored_w = max(0.0, (self.soc_pct - spec.min_soc_pct) / 100.0 * self.capacity_wh * self._eta / hours)
        max_charge = min(spec.max_charge_w, room_w)
        if mode == "charge":
            return max_charge, 0.0
        if surplus_w > 0:
            return min(surplus_w, max_charge), 0.0
        if surplus_w < 0 and mode not in ("hold", "holdcharge"):
            return 0.0, min(-surplus_w, spec.max_discharge_w, stored_w)
        return 0.0, 0.0

    def apply(self, charge_w: float, discharge_w: float, dt_s: float) -> None:
        hours = dt_s / 3600.0
        self.charged_wh += charge_w * hours
        self.discharged_wh += discharge_w * hours
        delta_wh = charge_w * hours * self._eta - discharge_w * hours / self._eta
        self.soc_pct = min(100.0, max(0.0, self.soc_pct + delta_wh / self.capacity_wh * 100.0))

    @property
    def energy_wh(self) -> float:
        return self.soc_pct / 100.0 * self.capacity_wh


class BatteryControl:
    """evcc's site-level battery settings and the mode it derives from them."""

    def __init__(self, *, priority_soc: float, buffer_soc: float, buffer_start_soc: float,
                 discharge_control: bool, grid_charge_limit: float | None) -> None:
        self.priority_soc = priority_soc
        self.buffer_soc = buffer_soc
        self.buffer_start_soc = buffer_start_soc
        self.discharge_control = discharge_control
        self.grid_charge_limit = grid_charge_limit
        self.mode = "unknown"
        self.external = "unknown"
        # evcc publishes batteryModeExternal only once it changed (then it stays in the state).
        self.external_published = False
        # None: no external control ever, or already handed back to normal.
        self.external_since: float | None = None
        self.grid_charge_active = False

    def set_external(self, mode: str, now: float) -> None:
        if mode != self.external:
            self.external_published = True
        self.external = mode
        if mode != "unknown":
            self.external_since = now

    def expire(self, now: float) -> bool:
        """The watchdog: True when an external mode has just run out."""
        if self.external != "unknown" and self.external_since is not None \
                and now - self.external_since >= EXTERNAL_MODE_TTL_S:
            self.external = "unknown"
            return True
        return False

    def required_mode(self, rate: float | None, discharge_control_wanted: bool) -> str:
        """The mode evcc asks for this cycle, or "unknown" to leave the battery as it is."""
        self.grid_charge_active = (self.grid_charge_limit is not None and rate is not None
                                   and rate <= self.grid_charge_limit)
        if self.external == "unknown" and self.external_since is not None:
            return "normal"
        if self.external != "unknown":
            return self.external if self.external != self.mode else "unknown"
        if self.grid_charge_active:
            return "unknown" if self.mode == "charge" else "charge"
        if self.discharge_control and discharge_control_wanted:
            return "unknown" if self.mode == "hold" else "hold"
        if self.mode not in ("unknown", "normal"):
            return "normal"
        return "unknown"

    def apply(self, required: str) -> bool:
        """Take the required mode; True when the effective mode changed."""
        if required == "unknown":
            return False
        changed = required != self.mode
        self.mode = required
        if self.external == "unknown":
            self.external_since = None
        return changed
