"""A simulated loadpoint: evcc's per-loadpoint settings, the session, and the charger.

The charger is a wallbox cars plug into, or an integrated heat pump (heatpump.py) that
is always connected and never takes a car. Setters validate like evcc's API and raise
ValueError with the message the HTTP layer returns as 400 {"error": ...}. The control
decisions live in charge_control.py.

What evcc resets (core/loadpoint.go): on disconnect (evVehicleDisconnectHandler) the
vehicle, the detection, limitSoc and limitEnergy (not for integrated devices), the active
plan, and the mode back to the loadpoint's default mode if evcc.yaml sets one; on connect
(evVehicleConnectHandler) the session (energy, duration) and the pv timer (elapsed).
"""

from __future__ import annotations

import math

from smartload.sim.heatpump import HeatPump
from smartload.sim.scenario import LoadpointSpec
from smartload.sim.vehicle import SimVehicle

MODES = ("off", "now", "minpv", "pv")
# evcc's sentinel for an elapsed pv timer: "disable at once".
ELAPSED = -math.inf
# evcc's assumed charge efficiency when it estimates energy from a SoC (core/soc).
EVCC_CHARGE_EFFICIENCY = 0.85


class SimLoadpoint:
    def __init__(self, lp_id: int, spec: LoadpointSpec, voltage: float) -> None:
        self.id = lp_id
        self.name = f"lp{lp_id}"
        self.title = spec.title
        self.voltage = voltage
        self.charger_phases = spec.phases
        self.phase_switching = spec.phase_switching
        # evcc settings
        self.mode: str = spec.mode
        self.default_mode = spec.default_mode
        self.phases_configured: int = 0 if spec.phase_switching else spec.phases
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
        self.phases_active: int = spec.phases
        self.pv_timer: float | None = None
        self.pv_action = "inactive"
        self.pv_remaining_s = 0.0
        self.phase_timer: float | None = None
        self.phase_action = "inactive"
        self.phase_remaining_s = 0.0
        # an integrated heating device instead of a wallbox
        self.device = HeatPump(spec.heatpump) if spec.device == "heatpump" else None
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
        """A car is plugged in, or the loadpoint is an integrated device (always connected)."""
        return self.vehicle is not None or self.device is not None

    @property
    def charging(self) -> bool:
        return self.charge_power_w > 0.0

    @property
    def detection_active(self) -> bool:
        return self.detection_until is not None

    def connect(self, vehicle: SimVehicle, now: float, detection_s: float, *, pv_timer_elapsed: bool = False) -> None:
        if self.device is not None:
            raise ValueError(f"loadpoint {self.id} is a heat pump: it takes no car")
        self.vehicle = vehicle
        self.connected_at = now
        self.vehicle_name = ""
        self.detection_until = now + detection_s
        self.reset_session()
        # evcc elapses the pv timer on connect ("immediately allow pv mode activity").
        self.pv_timer = ELAPSED if pv_timer_elapsed else None

    def reset_session(self) -> None:
        """A new session: on connect, and for a heating device at each local midnight."""
        self.session_energy_wh = self.session_cost_eur = self.session_solar_wh = 0.0
        self.charge_duration_s = 0.0

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
        if self.default_mode is not None:
            self.mode = self.default_mode

    # --- physics ----------------------------------------------------------------------

    def draw(self, dt_s: float, now: float) -> float:
        """Charge power over the next dt_s, applied to the plugged car (or the heat pump)."""
        if self.device is not None:
            power = self.device.step(self.enabled, dt_s)
            self.charge_power_w = power
            self._meter(power, dt_s)
            return power
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
        self._meter(power, dt_s)
        if self.vehicle_name == vehicle.name and not vehicle.offline:
            # evcc polls the car while it charges and estimates in between.
            vehicle.evcc_soc_pct = vehicle.soc_pct
        return power

    def _meter(self, power_w: float, dt_s: float) -> None:
        if power_w <= 0.0:
            return
        energy_wh = power_w * dt_s / 3600.0
        self.session_energy_wh += energy_wh
        self.total_import_wh += energy_wh
        self.charge_duration_s += dt_s

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

    def set_min_soc(self, soc: int) -> int:
        """evcc's loadpoint minSoc (POST .../mintemp: for a heating device the minimum temperature)."""
        self.min_soc = soc
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
        """evcc's vehicleSoc; None while unknown (shown as 0). A heating device's is its
        temperature (the charger's soc wins over any vehicle); an offline car never has one."""
        if self.device is not None:
            return self.device.temp_c
        ev = self.identified(vehicles)
        return ev.evcc_soc_pct if ev is not None and not ev.offline else None

    def soc_based(self, vehicles: dict[str, SimVehicle]) -> bool:
        """evcc's socBasedPlanning: an identified car whose template has a SoC. Otherwise
        (a guest, an offline car, a heating device) SoC plans do not apply and limitEnergy does."""
        ev = self.identified(vehicles)
        return ev is not None and not ev.offline

    def limit_energy_reached(self, vehicles: dict[str, SimVehicle]) -> bool:
        return (self.limit_energy_kwh > 0 and not self.soc_based(vehicles)
                and self.session_energy_wh / 1000.0 >= self.limit_energy_kwh)

    def min_soc_not_reached(self, vehicles: dict[str, SimVehicle]) -> bool:
        """evcc's minSocNotReached: below minSoc by the SoC evcc knows, or, while it knows
        none, until the session charged what minSoc of the car's capacity takes."""
        min_soc = self.effective_min_soc(vehicles)
        if min_soc <= 0:
            return False
        soc = self.evcc_soc(vehicles)
        if soc:
            return soc < min_soc
        ev = self.identified(vehicles)
        if ev is None:
            return False
        return self.session_energy_wh < ev.spec.capacity_kwh * min_soc * 10.0 / EVCC_CHARGE_EFFICIENCY

    def max_power_w(self) -> float:
        phases = self.charger_phases if self.phases_configured == 0 else self.phases_configured
        return self.max_current * self.voltage * phases
