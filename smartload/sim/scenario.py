"""Scenario files: the simulated site (PV, house, battery, wallboxes, cars and their trips).

Durations are plain numbers with an `_s` suffix, clock times are "HH:MM" in the
scenario's time zone. Every model forbids unknown keys so a typo is an error. The fixed
devices' models live in site_specs.py and are re-exported here.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from smartload.settings.types import SAFE_LOADER, StrictModel, check_timezone, is_clock
from smartload.settings.vehicles import WEEKDAYS, Weekday
from smartload.sim.site_specs import (
    BatterySpec,
    ControlSpec,
    HeatPumpSpec,
    HouseSpec,
    LoadpointSpec,
    Mode,
    PvSpec,
    TariffSpec,
)

__all__ = ["WEEKDAYS", "BatterySpec", "CloudSpec", "ControlSpec", "HeatPumpSpec", "HouseSpec", "LoadpointSpec",
           "PvSpec", "Scenario", "ScenarioError", "StartSpec", "TariffSpec", "TripSpec", "VehicleSpec",
           "load_scenario"]

SHIPPED = ("household", "two_wallboxes", "business", "real_site")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ScenarioError(Exception):
    """A scenario could not be loaded; `problems` holds one readable line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


_Strict = StrictModel


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
        if not is_clock(value):
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
    # evcc's vehicle template. api: evcc reads the SoC from the car maker's API. offline
    # (evcc's `template: offline`, vehicles.<name>.features ["Offline"]): evcc never has a
    # SoC and shows vehicleSoc 0 and vehicleRange 0 however full the car is; the car still
    # charges, SoC plans do not apply, limitEnergy does.
    template: Literal["api", "offline"] = "api"
    # Where smartload may read the car's SoC: its maker's cloud at /cloud/{name}/soc, or
    # none (that path answers 404).
    soc_source: Literal["cloud", "none"] = "cloud"
    # evcc's per-vehicle charge mode (vehicle `mode` setting or onIdentify): the loadpoint
    # switches to it whenever evcc identifies the car or is told it. None: keep the mode.
    mode: Mode | None = None
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
    # True: evcc's charger reports no connection time (api.ConnectionTimer), so a swap with
    # swap_gap_s 0 falls between two evcc cycles and evcc never sees the wallbox empty: no
    # disconnect, no connect; it keeps the session, its limits and the vehicle it had
    # identified, which is now the wrong car. False: evcc sees the unplug and the plug-in.
    evcc_misses_instant_swaps: bool = False
    # True: as evcc's evVehicleConnectHandler (elapsePVTimer) does, a car plugged in while
    # the surplus suffices starts charging in pv mode at once. False (the shipped scenarios'
    # figures): it waits the enable delay like any other pv start.
    evcc_pv_timer_elapsed_on_connect: bool = False

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
            if any(lp < 1 for lp in wanted):
                raise ValueError(f"vehicle {name!r}: loadpoints count from 1")
            heating = [lp for lp in wanted if self.loadpoints[lp - 1].device == "heatpump"]
            if heating:
                raise ValueError(f"vehicle {name!r} refers to loadpoint {heating[0]}, a heat pump that takes no car")
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
        data = yaml.load(text, Loader=SAFE_LOADER)
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
