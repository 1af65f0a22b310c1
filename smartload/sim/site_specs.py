"""Scenario models of the site's fixed devices: PV, house, home battery, evcc's site
settings, the tariff and the loadpoints (a wallbox, or a heat pump evcc drives).

scenario.py re-exports them beside the cars and the Scenario itself. Every model forbids
unknown keys so a typo is an error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from smartload.settings.types import StrictModel

Mode = Literal["off", "now", "minpv", "pv"]


class PvSpec(StrictModel):
    kwp: float = Field(default=8.0, ge=0)
    tilt_deg: float = Field(default=30.0, ge=0, le=90)
    # 0 = south, -90 = east, 90 = west.
    azimuth_deg: float = Field(default=0.0, ge=-180, le=180)
    performance_ratio: float = Field(default=0.85, gt=0, le=1)
    # Mean cloud cover 0..1; each day draws its own level around it. 0.55 gives about the
    # German average yield of 1000 kWh per kWp and year.
    cloudiness: float = Field(default=0.55, ge=0, le=1)
    # How much cloudier mid-January is than average (and mid-July clearer).
    cloud_seasonality: float = Field(default=0.2, ge=0, le=0.5)
    # How far the forecast's cloud level misses the day's: a seeded normal draw of this
    # standard deviation per day, as a day-ahead forecast errs for a whole day. 0: the
    # forecast knows each day's level and misses only the passing clouds (about an hour).
    forecast_error: float = Field(default=0.0, ge=0, le=1)


class HouseSpec(StrictModel):
    annual_kwh: float = Field(default=4000.0, ge=0)
    # Relative standard deviation of the per-minute noise on the H25 profile.
    noise: float = Field(default=0.25, ge=0, le=1)


class BatterySpec(StrictModel):
    capacity_kwh: float = Field(default=10.0, gt=0)
    max_charge_w: float = Field(default=5000.0, gt=0)
    max_discharge_w: float = Field(default=5000.0, gt=0)
    round_trip_efficiency: float = Field(default=0.92, gt=0, le=1)
    soc_pct: float = Field(default=50.0, ge=0, le=100)
    # The inverter's own reserve; it never discharges below it.
    min_soc_pct: float = Field(default=5.0, ge=0, le=100)
    # False: evcc reads the battery but cannot set its mode (its meter has no batterymode,
    # evcc's api.BatteryController): battery.devices[].controllable is false, an external
    # battery mode is not taken (POST /api/batterymode answers 0), grid-charge limit and
    # discharge control are refused (400 "battery control not available"), and whatever
    # mode evcc derives never reaches the inverter.
    controllable: bool = True


class ControlSpec(StrictModel):
    """evcc's site settings at start (all writable through the API)."""

    interval_s: float = Field(default=10.0, gt=0)
    residual_power_w: float = 0.0
    priority_soc_pct: float = Field(default=0.0, ge=0, le=100)
    buffer_soc_pct: float = Field(default=0.0, ge=0, le=100)
    buffer_start_soc_pct: float = Field(default=0.0, ge=0, le=100)
    battery_discharge_control: bool = False
    battery_grid_charge_limit: float | None = None


class TariffSpec(StrictModel):
    currency: Literal["EUR"] = "EUR"
    vat: float = Field(default=0.19, ge=0)
    # Grid fees, levies and supplier margin per kWh (net of VAT it is added after).
    markup_eur_per_kwh: float = 0.17
    feedin_eur_per_kwh: float = 0.08


class HeatPumpSpec(StrictModel):
    """An SG-ready heat pump heating a hot-water tank, driven as evcc's sgready charger does:
    evcc enabled = "boost" (heat to boost_c), disabled = "normal" (its own thermostat)."""

    # Electric power while the compressor runs (it does not modulate with evcc's current).
    power_w: float = Field(default=3000.0, gt=0)
    # Heat into the tank per unit of electric energy.
    cop: float = Field(default=3.0, gt=0)
    tank_litres: float = Field(default=300.0, gt=0)
    # Water temperature at the start.
    temp_c: float = Field(default=48.0, ge=0, le=100)
    # Its own setpoint while evcc does not boost; None: it heats only when evcc enables it
    # (a plain switched heater: then evcc's mode off really means off).
    normal_c: float | None = Field(default=45.0, ge=0, le=100)
    # Setpoint while evcc boosts; evcc shows it as vehicleLimitSoc (the charger's limit temperature).
    boost_c: float = Field(default=65.0, ge=0, le=100)
    # The compressor starts this far below the setpoint and stops at it.
    hysteresis_k: float = Field(default=5.0, gt=0)
    # Heat the tank loses (standing losses and hot water drawn), in thermal W, down to ambient_c.
    loss_w: float = Field(default=250.0, ge=0)
    ambient_c: float = Field(default=20.0, ge=0, le=100)
    # The loadpoint's `ui` scale evcc serves for heating devices.
    ui_min_c: float = 30.0
    ui_max_c: float = 70.0

    @model_validator(mode="after")
    def _setpoints(self) -> HeatPumpSpec:
        if self.normal_c is not None and self.normal_c > self.boost_c:
            raise ValueError("normal_c must not exceed boost_c")
        if self.ambient_c > self.temp_c:
            raise ValueError("temp_c must not be below ambient_c")
        return self


class LoadpointSpec(StrictModel):
    title: str
    phases: Literal[1, 3] = 3
    phase_switching: bool = False
    min_current_a: float = Field(default=6.0, gt=0)
    max_current_a: float = Field(default=16.0, gt=0)
    mode: Mode = "pv"
    # evcc.yaml's loadpoint `mode:` (evcc's DefaultMode): evcc returns to it whenever a car
    # disconnects. None: a loadpoint configured in evcc's UI, which keeps its mode.
    default_mode: Mode | None = None
    enable_threshold_w: float = 0.0
    enable_delay_s: float = Field(default=60.0, ge=0)
    disable_threshold_w: float = 0.0
    disable_delay_s: float = Field(default=180.0, ge=0)
    # charger: a wallbox cars plug into. heatpump: an integrated heating device (evcc's
    # chargerFeatureHeating/IntegratedDevice): always connected, never a car, vehicleSoc is
    # the water temperature; its parameters under `heatpump`.
    device: Literal["charger", "heatpump"] = "charger"
    heatpump: HeatPumpSpec = HeatPumpSpec()

    @model_validator(mode="after")
    def _currents(self) -> LoadpointSpec:
        if self.min_current_a > self.max_current_a:
            raise ValueError("min_current_a must not exceed max_current_a")
        if self.device != "heatpump" and "heatpump" in self.model_fields_set:
            raise ValueError("heatpump parameters need device: heatpump")
        return self
