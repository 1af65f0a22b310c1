"""A simulated loadpoint: evcc's per-loadpoint settings, the session, and the charger.

Setters validate like evcc's API and raise ValueError with the message the HTTP layer
returns as 400 {"error": ...}. The control decisions live in charge_control.py.
"""

from __future__ import annotations

import math

from smartload.sim.scenario import LoadpointSpec
from smartload.sim.vehicle import SimVehicle

MODES = ("off", "now", "minpv", "pv")
# evcc's sentinel for an elapsed pv timer: "disable at once".
ELAPSED = -math.inf


class SimLoadpoint:
    def __init__(self, lp_id: int, spec: LoadpointSpec, voltage: float) -> None:
        self.id = lp_id
        self.name = f"lp{lp_id}"
        self.title = spec.title
        self.voltage = voltage
        self.charger_phases = spec.phases
        self.phase_switching = spec.phase_switching
        # evcc settings
        self.mode = spec.mode
        self.phases_configured = 0 if spec.phase_switching else spec.phases
        self.min_current = spec.min_current_a
        self.max_current = spec.max_current_a
        self.limit_soc = 0
        self.limit_energy_kwh = 0.0
        self.min_soc = 0
        self.smart_cost_limit: float | None = None
        self.enable_threshold_w = spec.enable_threshold_w
        self.enable_delay_s = spec.enable_delay_s
        self.disable_threshold_w = spec.disable_threshold_w
        self.disable_delay_s = spec.disable_delay_s
        # charger state
        self.enabled = False
        self.offered_current = 0.0
        self.phases_active = spec.phases
        self.pv_timer: float | None = None
        self.pv_action = "inactive"
        self.pv_remaining_s = 0.0
        self.phase_timer: float | None = None
        self.phase_action = "inactive"
        self.phase_remaining_s = 0.0
        # session
        self.vehicle: SimVehicle | None = None
        self.connected_at = 0.0
        self.vehicle_name = ""
        self.detection_until: float | None = None
        self.charge_power_w = 0.0
        self.session_energy_wh = 0.0
        self.session_cost_eur = 0.0
        self.session_solar_wh = 0.0
        self.charge_duration_s = 0.0
        self.total_import_wh = 0.0
        # decisions of the last control cycle
        self.fast_charging = False
        self.smart_cost_active = False
        self.smart_cost_next_start: float | None = None
        self.plan_windows: list[tuple[float, float, float]] = []
        self.plan_active = False

    # --- session ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.vehicle is not None

    @property
    def charging(self) -> bool:
        return self.charge_power_w > 0.0

    @property
    def detection_active(self) -> bool:
        return self.detection_until is not None

    def connect(self, vehicle: SimVehicle, now: float, detection_s: float) -> None:
        self.vehicle = vehicle
        self.connected_at = now
        self.vehicle_name = ""
        self.detection_until = now + detection_s
        self.session_energy_wh = self.session_cost_eur = self.session_solar_wh = 0.0
        self.charge_duration_s = 0.0
        self.pv_timer = None

    def disconnect(self) -> None:
        self.vehicle = None
        self.vehicle_name = ""
        self.detection_until = None
        self.enabled = False
        self.offered_current = 0.0
        self.charge_power_w = 0.0
        # evcc resets the session limits when the car leaves.
        self.limit_soc = 0
        self.limit_energy_kwh = 0.0
        self.plan_windows = []
        self.plan_active = self.smart_cost_active = self.fast_charging = False

    # --- physics ----------------------------------------------------------------------

    def draw(self, dt_s: float, now: float) -> float:
        """Charge power over the next dt_s, applied to the plugged car."""
        vehicle = self.vehicle
        if vehicle is None or not self.enabled or self.offered_current <= 0.0:
            self.charge_power_w = 0.0
            return 0.0
        phases = min(self.phases_active, vehicle.spec.phases)
        power = min(self.offered_current * self.voltage * phases, vehicle.max_power_w(dt_s))
        if power <= 0.0:
            self.charge_power_w = 0.0
            return 0.0
        if self.charge_power_w == 0.0:
            vehicle.next_wake = now
        self.charge_power_w = power
        if now >= vehicle.next_wake:
            vehicle.cloud.wake(vehicle.soc_pct, now)
            vehicle.next_wake = now + vehicle.spec.cloud.wake_interval_s
        vehicle.charge(power, dt_s)
        energy_wh = power * dt_s / 3600.0
        self.session_energy_wh += energy_wh
        self.total_import_wh += energy_wh
        self.charge_duration_s += dt_s
        if self.vehicle_name == vehicle.name:
            # evcc polls the car while it charges and estimates in between.
            vehicle.evcc_soc_pct = vehicle.soc_pct
        return power

    # --- settings (evcc API) ----------------------------------------------------------

    def set_mode(self, mode: str) -> str:
        if mode not in MODES:
            raise ValueError(f"{mode} does not belong to ChargeMode values")
        self.mode = mode
        return mode

    def set_limit_soc(self, soc: int) -> int:
        if not 0 <= soc <= 100:
            raise ValueError(f"invalid limit soc: {soc}")
        self.limit_soc = soc
        return soc

    def set_limit_energy(self, kwh: float) -> float:
        self.limit_energy_kwh = kwh
        return kwh

    def set_min_current(self, current: float) -> float:
        if current > self.max_current:
            raise ValueError(f"min current {current:g}A exceeds max current {self.max_current:g}A")
        self.min_current = current
        return current

    def set_max_current(self, current: float) -> float:
        if current < self.min_current:
            raise ValueError(f"max current {current:g}A is below min current {self.min_current:g}A")
        self.max_current = current
        return current

    def set_phases(self, phases: int) -> int:
        if phases not in (0, 1, 3):
            raise ValueError(f"invalid number of phases: {phases}")
        if not self.phase_switching and phases != self.charger_phases:
            raise ValueError("charger does not support phase switching")
        self.phases_configured = phases
        if phases:
            self.phases_active = phases
        return phases

    def set_smart_cost_limit(self, limit: float | None) -> float | None:
        self.smart_cost_limit = limit
        return limit

    # --- what evcc derives --------------------------------------------------------------

    def identified(self, vehicles: dict[str, SimVehicle]) -> SimVehicle | None:
        return vehicles.get(self.vehicle_name) if self.vehicle_name else None

    def effective_limit_soc(self, vehicles: dict[str, SimVehicle]) -> int:
        if self.limit_soc > 0:
            return self.limit_soc
        ev = self.identified(vehicles)
        if ev is not None and ev.limit_soc_pct > 0:
            return round(ev.limit_soc_pct)
        return 100

    def effective_min_soc(self, vehicles: dict[str, SimVehicle]) -> int:
        ev = self.identified(vehicles)
        return max(self.min_soc, round(ev.min_soc_pct) if ev is not None else 0)

    def evcc_soc(self, vehicles: dict[str, SimVehicle]) -> float | None:
        ev = self.identified(vehicles)
        return ev.evcc_soc_pct if ev is not None else None

    def max_power_w(self) -> float:
        phases = self.charger_phases if self.phases_configured == 0 else self.phases_configured
        return self.max_current * self.voltage * phases
