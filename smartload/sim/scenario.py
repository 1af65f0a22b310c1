"""Scenario files: the simulated site (PV, house, battery, wallboxes, cars and their trips).

Durations are plain numbers with an `_s` suffix, clock times are "HH:MM" in the
scenario's time zone. Every model forbids unknown keys so a typo is an error.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from smartload.config_types import check_timezone

SHIPPED = ("household", "two_wallboxes", "business")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScenarioError(Exception):
    """A scenario could not be loaded; `problems` holds one readable line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PvSpec(_Strict):
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


class HouseSpec(_Strict):
    annual_kwh: float = Field(default=4000.0, ge=0)
    # Relative standard deviation of the per-minute noise on the H25 profile.
    noise: float = Field(default=0.25, ge=0, le=1)


class BatterySpec(_Strict):
    capacity_kwh: float = Field(default=10.0, gt=0)
    max_charge_w: float = Field(default=5000.0, gt=0)
    max_discharge_w: float = Field(default=5000.0, gt=0)
    round_trip_efficiency: float = Field(default=0.92, gt=0, le=1)
    soc_pct: float = Field(default=50.0, ge=0, le=100)
    # The inverter's own reserve; it never discharges below it.
    min_soc_pct: float = Field(default=5.0, ge=0, le=100)


class ControlSpec(_Strict):
    """evcc's site settings at start (all writable through the API)."""

    interval_s: float = Field(default=10.0, gt=0)
    residual_power_w: float = 0.0
    priority_soc_pct: float = Field(default=0.0, ge=0, le=100)
    buffer_soc_pct: float = Field(default=0.0, ge=0, le=100)
    buffer_start_soc_pct: float = Field(default=0.0, ge=0, le=100)
    battery_discharge_control: bool = False
    battery_grid_charge_limit: float | None = None


class TariffSpec(_Strict):
    currency: Literal["EUR"] = "EUR"
    vat: float = Field(default=0.19, ge=0)
    # Grid fees, levies and supplier margin per kWh (net of VAT it is added after).
    markup_eur_per_kwh: float = 0.17
    feedin_eur_per_kwh: float = 0.08


class LoadpointSpec(_Strict):
    title: str
    phases: Literal[1, 3] = 3
    phase_switching: bool = False
    min_current_a: float = Field(default=6.0, gt=0)
    max_current_a: float = Field(default=16.0, gt=0)
    mode: Literal["off", "now", "minpv", "pv"] = "pv"
    enable_threshold_w: float = 0.0
    enable_delay_s: float = Field(default=60.0, ge=0)
    disable_threshold_w: float = 0.0
    disable_delay_s: float = Field(default=180.0, ge=0)

    @model_validator(mode="after")
    def _currents(self) -> LoadpointSpec:
        if self.min_current_a > self.max_current_a:
            raise ValueError("min_current_a must not exceed max_current_a")
        return self


class CloudSpec(_Strict):
    """The car maker's cloud as the fake server at /cloud/{vehicle}/soc plays it."""

    latency_s: float = Field(default=2.0, ge=0)
    # A wake-up's reading reaches the cloud this long after the car measured it.
    staleness_s: float = Field(default=0.0, ge=0)
    # Requests per vehicle and local day before HTTP 429; None is unlimited.
    daily_limit: int | None = Field(default=30, ge=0)
    # While charging the car reports its SoC this often.
    wake_interval_s: float = Field(default=900.0, gt=0)


class TripSpec(_Strict):
    """A recurring absence: the car leaves at `depart` and comes back at `back`."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    depart: str
    back: str
    energy_kwh: float = Field(ge=0)
    # Each trip uses energy_kwh times a seeded factor within 1 ± energy_spread.
    energy_spread: float = Field(default=0.2, ge=0, le=0.9)
    # Nights away; None: 0 if `back` is later than `depart`, else 1.
    nights: int | None = Field(default=None, ge=0, le=6)
    jitter_min: float = Field(default=0.0, ge=0, le=120)
    # Chance that the car is plugged in after coming back.
    plug_probability: float = Field(default=1.0, ge=0, le=1)

    @field_validator("depart", "back")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"must be a clock time HH:MM (got {value!r})")
        return value


class StartSpec(_Strict):
    state: Literal["away", "home", "plugged"] = "home"
    soc_pct: float = Field(default=50.0, ge=0, le=100)
    # The SoC evcc last saw (stale); None: evcc has none and asks the car on identification.
    evcc_soc_pct: float | None = Field(default=None, ge=0, le=100)
    loadpoint: int | None = Field(default=None, ge=1)
    # home: plug in this long after the start; away: come back this long after the start.
    plug_in_after_s: float | None = Field(default=None, ge=0)
    back_after_s: float | None = Field(default=None, ge=0)


class VehicleSpec(_Strict):
    title: str
    capacity_kwh: float = Field(gt=0)
    max_charge_w: float = Field(default=11000.0, gt=0)
    phases: Literal[1, 2, 3] = 3
    charge_efficiency: float = Field(default=0.9, gt=0, le=1)
    # evcc's per-vehicle settings.
    min_soc_pct: float = Field(default=0.0, ge=0, le=100)
    limit_soc_pct: float = Field(default=0.0, ge=0, le=100)
    # The limit set inside the car itself.
    car_limit_soc_pct: float = Field(default=100.0, gt=0, le=100)
    # False: evcc never recognises the car and shows it as a guest.
    identifiable: bool = True
    detection_s: float = Field(default=30.0, ge=0)
    loadpoints: list[int] = Field(default_factory=lambda: [1], min_length=1)
    plug_delay_s: float = Field(default=300.0, ge=0)
    km_per_kwh: float = Field(default=6.0, gt=0)
    cloud: CloudSpec = CloudSpec()
    trips: list[TripSpec] = Field(default_factory=list)
    start: StartSpec = StartSpec()


class Scenario(_Strict):
    title: str
    timezone: str = "Europe/Berlin"
    latitude: float = Field(default=51.0, ge=-66, le=66)
    longitude: float = Field(default=10.0, ge=-180, le=180)
    voltage_v: float = Field(default=230.0, gt=0)
    pv: PvSpec = PvSpec()
    house: HouseSpec = HouseSpec()
    battery: BatterySpec | None = None
    control: ControlSpec = ControlSpec()
    tariff: TariffSpec = TariffSpec()
    loadpoints: list[LoadpointSpec] = Field(min_length=1)
    vehicles: dict[str, VehicleSpec] = Field(default_factory=dict)
    # evcc gives up identifying an unknown car after this and shows a guest.
    detection_timeout_s: float = Field(default=120.0, ge=0)
    # True: evcc asks the car's API (what its cloud holds) for the SoC when it identifies the
    # car, as evcc's setActiveVehicle resets socUpdated. False: evcc shows the SoC of the
    # car's last charge until charging starts (only a car evcc never saw is read at once).
    evcc_reads_soc_on_identify: bool = False
    # evcc's load management (a circuit's maxPower) over all loadpoints: together they draw
    # at most this; the car plugged in first is served first. None: no limit.
    circuit_max_power_w: float | None = Field(default=None, gt=0)
    # A person swaps the plug when the charging car is done and another one waits.
    swap_when_done: bool = True
    swap_delay_s: float = Field(default=600.0, ge=0)
    # During a swap the wallbox is free this long while the person moves the cable (0: at once).
    swap_gap_s: float = Field(default=0.0, ge=0)
    # ... or when the waiting car is below this SoC and the plugged one 20 points fuller.
    swap_below_soc_pct: float = Field(default=20.0, ge=0, le=100)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        count = len(self.loadpoints)
        for name, vehicle in self.vehicles.items():
            if not _NAME.match(name):
                raise ValueError(f"vehicle id {name!r} must be a simple lowercase id like 'zoe'")
            wanted = [*vehicle.loadpoints]
            if vehicle.start.loadpoint is not None:
                wanted.append(vehicle.start.loadpoint)
            if any(lp > count for lp in wanted):
                raise ValueError(f"vehicle {name!r} refers to a loadpoint beyond {count}")
        plugged = [v.start.loadpoint or v.loadpoints[0] for v in self.vehicles.values()
                   if v.start.state == "plugged"]
        if len(plugged) != len(set(plugged)):
            raise ValueError("two vehicles start plugged into the same loadpoint")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _source(name_or_path: str | Path) -> tuple[str, str]:
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text:
        path = Path(text)
        if not path.exists():
            raise ScenarioError([f"{path}: file not found"])
        return str(path), path.read_text(encoding="utf-8")
    if text not in SHIPPED:
        raise ScenarioError([f"unknown scenario {text!r}: use one of {', '.join(SHIPPED)} or a YAML path"])
    resource = resources.files("smartload.sim").joinpath("scenarios", f"{text}.yaml")
    return text, resource.read_text(encoding="utf-8")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name, or a scenario YAML file; raises ScenarioError."""
    label, text = _source(name_or_path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{label}: not valid YAML ({exc})"]) from exc
    if not isinstance(data, dict):
        raise ScenarioError([f"{label}: must be a mapping"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            path = ".".join(str(p) for p in error["loc"]) or "(root)"
            problems.append(f"{label}: {path}: {error['msg'].removeprefix('Value error, ')}")
        raise ScenarioError(problems) from exc
