"""A heat pump heating a hot-water tank, as an SG-ready heat pump behind evcc's sgready charger.

evcc drives it through two states only (charger/sgready.go): enabled is "boost" (status C:
the heat pump heats to its boost setpoint) and disabled is "normal" (status B: it keeps
the tank at its own setpoint, whatever evcc's mode; evcc's feature Continuous). The
compressor runs at a fixed electric power (a switch device: evcc's current does not
modulate it), with a hysteresis: it starts `hysteresis_k` below the setpoint and stops at
it. The tank loses heat at a constant rate down to the ambient temperature.

Energy: the electric power drawn enters the site's balance like a car's; the tank gains
that energy times the COP (the rest comes from the outside air), less its losses.
"""

from __future__ import annotations

from smartload.sim.site_specs import HeatPumpSpec

# Heat capacity of water: 4186 J per kg and kelvin, one kg per litre, in Wh per litre and kelvin.
WATER_WH_PER_LITRE_K = 4186.0 / 3600.0


class HeatPump:
    def __init__(self, spec: HeatPumpSpec) -> None:
        self.spec = spec
        self.temp_c = spec.temp_c
        self.running = False
        self._wh_per_k = spec.tank_litres * WATER_WH_PER_LITRE_K

    def setpoint(self, boost: bool) -> float | None:
        return self.spec.boost_c if boost else self.spec.normal_c

    def step(self, boost: bool, dt_s: float) -> float:
        """Electric power (W) over the next dt_s; boost: evcc has the heat pump enabled."""
        spec = self.spec
        setpoint = self.setpoint(boost)
        if setpoint is None:
            self.running = False
        elif self.running:
            self.running = self.temp_c < setpoint
        else:
            self.running = self.temp_c < setpoint - spec.hysteresis_k
        power_w = spec.power_w if self.running else 0.0
        loss_w = spec.loss_w if self.temp_c > spec.ambient_c else 0.0
        heat_wh = (power_w * spec.cop - loss_w) * dt_s / 3600.0
        self.temp_c = max(spec.ambient_c, self.temp_c + heat_wh / self._wh_per_k)
        return power_w
