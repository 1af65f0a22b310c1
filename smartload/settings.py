"""Settings: settings.yaml, overridden by SMARTLOAD_* environment variables.

Every model forbids unknown keys so a typo is an error, not a silently ignored option.
`load_settings` turns every problem into one readable line with its key path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import pydantic_settings
import yaml
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from smartload.adapter_settings import MqttBridgeSettings, NotifySettings, StoreSettings, WebSettings
from smartload.config_types import (
    REQUEST_MAX_PRIORITY,
    REQUEST_MAX_TARGET_SOC_PCT,
    REQUEST_MIN_TARGET_SOC_PCT,
    Duration,
    StrictModel,
    check_timezone,
    secret_path,
)
from smartload.sim.settings import SimSettings
from smartload.vehicles.http_json import HttpJsonSettings
from smartload.vehicles.hyundai_kia import HyundaiKiaSettings
from smartload.vehicles.manual import ManualSettings
from smartload.vehicles.mqtt import MqttSettings
from smartload.vehicles.renault import RenaultSettings


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be a positive duration")
    return value


class EvccSettings(StrictModel):
    url: str = "embedded"
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    poll_interval: Duration = timedelta(seconds=10)
    request_timeout: Duration = timedelta(seconds=5)
    outage_backoff_max: Duration = timedelta(minutes=1)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value == "embedded" or re.match(r"^https?://[^\s/]+", value):
            return value.rstrip("/")
        raise ValueError("must be 'embedded' or an http(s):// URL such as http://evcc.local:7070")

    @field_validator("poll_interval", "request_timeout", "outage_backoff_max")
    @classmethod
    def _positive_durations(cls, value: timedelta) -> timedelta:
        return _positive(value)


class SiteSettings(StrictModel):
    timezone: str = "Europe/Berlin"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class TickSettings(StrictModel):
    period: Duration = timedelta(minutes=15)

    @field_validator("period")
    @classmethod
    def _divides_hour(cls, value: timedelta) -> timedelta:
        seconds = _positive(value).total_seconds()
        if 3600 % seconds and seconds % 3600:
            raise ValueError("must divide an hour (e.g. 5m, 15m) so ticks sit on the wall clock")
        return value


class RefreshSettings(StrictModel):
    # Routine and manual refreshes go out at most once per throttle each. It never delays
    # a plug-in's refresh; a car back at a wallbox within it of leaving counts as never
    # gone (a flapping cable), so it is not asked again (streams/refresh_lanes.py).
    throttle: Duration = timedelta(minutes=5)
    daily_budget: int = Field(default=24, ge=0)
    backoff_initial: Duration = timedelta(minutes=1)
    backoff_max: Duration = timedelta(hours=6)
    # A car that is not plugged in is asked this often (None: never), so the plan knows
    # what a car waiting for a shared wallbox holds after its trip.
    while_unplugged: Duration | None = timedelta(hours=1)


class RefreshOverride(StrictModel):
    throttle: Duration | None = None
    daily_budget: int | None = Field(default=None, ge=0)


class EvccProviderSettings(StrictModel):
    type: Literal["evcc"] = "evcc"


class FakeProviderSettings(StrictModel):
    """A scriptable provider for demos and tests: answers after `latency`."""

    type: Literal["fake"]
    latency: Duration = timedelta(seconds=2)
    soc_pct: float = Field(default=50.0, ge=0, le=100)
    staleness: Duration = timedelta(0)
    fail_every: int = Field(default=0, ge=0)


ProviderSettings = Annotated[
    EvccProviderSettings | FakeProviderSettings | RenaultSettings | HyundaiKiaSettings | HttpJsonSettings
    | MqttSettings | ManualSettings,
    Field(discriminator="type"),
]


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _clock_times(value: dict[str, str | None]) -> dict[str, str | None]:
    for day, clock in value.items():
        if clock is not None and not _CLOCK.match(clock):
            raise ValueError(f"{day}: {clock!r} is not a time of day HH:MM")
    return value


class VehicleSettings(StrictModel):
    evcc_name: str | None = None
    title: str = ""
    capacity_kwh: float = Field(gt=0)
    provider: ProviderSettings = EvccProviderSettings()
    refresh: RefreshOverride = RefreshOverride()
    target_soc_pct: float | None = Field(default=None, ge=REQUEST_MIN_TARGET_SOC_PCT, le=REQUEST_MAX_TARGET_SOC_PCT)
    departures: dict[Weekday, str | None] | None = None
    priority: int = Field(default=0, ge=0, le=REQUEST_MAX_PRIORITY)
    max_charge_w: float = Field(default=11_040.0, gt=0)
    charge_efficiency: float = Field(default=0.9, gt=0, le=1)
    wallboxes: list[int] = Field(default_factory=list)
    # Above this SoC the car draws less, falling linearly to nothing at 100 % (None: it
    # takes full power up to its limit); the plan then finishes early enough.
    taper_from_soc_pct: float | None = Field(default=None, ge=0, lt=100)

    @field_validator("departures")
    @classmethod
    def _departures(cls, value: dict[str, str | None] | None) -> dict[str, str | None] | None:
        return None if value is None else _clock_times(value)


class PlanningSettings(StrictModel):
    default_target_soc_pct: float = Field(default=80.0, ge=REQUEST_MIN_TARGET_SOC_PCT, le=REQUEST_MAX_TARGET_SOC_PCT)
    departures: dict[Weekday, str | None] = Field(default_factory=lambda: {
        "mon": "07:00", "tue": "07:00", "wed": "07:00", "thu": "07:00", "fri": "07:00",
        "sat": "10:00", "sun": "10:00",
    })
    time_limit: Duration = timedelta(seconds=2)
    mip_gap: float = Field(default=0.005, ge=0, lt=1)
    shortfall_penalty_eur_per_kwh: float = Field(default=10.0, gt=0)
    swap_penalty_eur: float = Field(default=0.10, ge=0)
    # Hysteresis: what turning a plugged car on or off against the action in force must save.
    switch_penalty_eur: float = Field(default=0.05, ge=0)
    grid_import_limit_w: float | None = Field(default=None, gt=0)
    house_load_w: float = Field(default=500.0, ge=0)
    # How fast the house-load profile learns: each minute of readings moves its
    # quarter-hour's mean by this share of the difference (0.01: about a week of memory).
    house_load_learning_per_min: float = Field(default=0.01, gt=0, le=1)
    # Drivers who give a departure often leave earlier: plans for their requests end this
    # quantile of how early the last drivers left (after 10 such departures), at most
    # early_departure_max before the departure given. 0 or a zero max: trust the drivers.
    early_departure_quantile: float = Field(default=0.8, ge=0, le=1)
    early_departure_max: Duration = timedelta(hours=2)
    # Planned with when a car's SoC is unknown: low, so the car gets enough rather than too little.
    unknown_soc_pct: float = Field(default=20.0, ge=0, le=100)
    handoff_min_dwell: Duration = timedelta(minutes=30)

    @field_validator("departures")
    @classmethod
    def _departures(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        return _clock_times(value)


class HomeBatterySettings(StrictModel):
    enabled: bool = True
    min_soc_pct: float = Field(default=5.0, ge=0, le=100)
    reserve_soc_pct: float = Field(default=10.0, ge=0, le=100)
    max_soc_pct: float = Field(default=100.0, gt=0, le=100)
    max_charge_w: float = Field(default=5000.0, gt=0)
    max_discharge_w: float = Field(default=5000.0, gt=0)
    charge_efficiency: float = Field(default=0.95, gt=0, le=1)
    discharge_efficiency: float = Field(default=0.95, gt=0, le=1)
    wear_eur_per_kwh: float = Field(default=0.02, ge=0)
    allow_grid_charge: bool = True


class ControlSettings(StrictModel):
    mode: Literal["act", "observe"] = "act"
    battery_mode_resend: Duration = timedelta(seconds=30)
    write_backoff_max: Duration = timedelta(minutes=5)


class LoggingSettings(StrictModel):
    level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR"] = "INFO"
    json_lines: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SMARTLOAD_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    evcc: EvccSettings = EvccSettings()
    site: SiteSettings = SiteSettings()
    tick: TickSettings = TickSettings()
    refresh: RefreshSettings = RefreshSettings()
    vehicles: dict[str, VehicleSettings] = {}
    planning: PlanningSettings = PlanningSettings()
    battery: HomeBatterySettings = HomeBatterySettings()
    control: ControlSettings = ControlSettings()
    logging: LoggingSettings = LoggingSettings()
    data_dir: Path = Path("data")
    sim: SimSettings = SimSettings()
    web: WebSettings = WebSettings()
    store: StoreSettings = StoreSettings()
    mqtt: MqttBridgeSettings = MqttBridgeSettings()
    notify: NotifySettings = NotifySettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        yaml_file = cls.model_config.get("yaml_file")
        if yaml_file:
            sources += (YamlConfigSettingsSource(settings_cls),)
        return (*sources, file_secret_settings)

    def evcc_name(self, vehicle: str) -> str:
        return self.vehicles[vehicle].evcc_name or vehicle

    def vehicles_by_evcc_name(self) -> dict[str, str]:
        """The configured vehicle each evcc vehicle name stands for."""
        return {self.evcc_name(v): v for v in self.vehicles}

    def refresh_for(self, vehicle: str) -> tuple[timedelta, int]:
        """The throttle window and daily budget in force for one vehicle."""
        override = self.vehicles[vehicle].refresh if vehicle in self.vehicles else RefreshOverride()
        throttle = override.throttle or self.refresh.throttle
        budget = self.refresh.daily_budget if override.daily_budget is None else override.daily_budget
        return throttle, budget


class SettingsError(Exception):
    """Settings could not be loaded; `problems` holds one readable line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


_USER_INFO = re.compile(r"[^/@\s:'\"]+:[^/@\s'\"]+@")


def _describe(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    path = ".".join(str(part) for part in loc) or "(root)"
    got = error.get("input")
    message = error["msg"].removeprefix("Value error, ")
    # An unknown key may be a misspelt password: neither it nor a secret is ever shown.
    if isinstance(got, dict | list) or got is None or error["type"] == "extra_forbidden" \
            or secret_path(Settings, loc):
        return f"{path}: {message}"
    shown = _USER_INFO.sub("***@", repr(got)[:200])
    return f"{path}: {message} (got {shown if len(shown) <= 80 else shown[:77] + '...'})"


def load_settings(path: Path | None) -> Settings:
    """Load settings from YAML (if given) and the environment, or raise SettingsError."""
    label = str(path) if path else "environment"
    if path is not None:
        if not path.exists():
            raise SettingsError([f"{label}: file not found"])
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise SettingsError([f"{label}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise SettingsError([f"{label}: (root): must be a mapping of settings"])

    class FileSettings(Settings):
        model_config = SettingsConfigDict(yaml_file=path)

    try:
        settings = FileSettings() if path is not None else Settings()
    except ValidationError as exc:
        raise SettingsError([f"{label}: {_describe(e)}" for e in exc.errors(include_url=False)]) from exc
    except pydantic_settings.SettingsError as exc:
        # A SMARTLOAD_* variable holding a section that is not JSON; the message names the
        # field and never the value.
        field = re.search(r'field "([^"]+)"', str(exc))
        name = field.group(1) if field else "(root)"
        raise SettingsError([f"environment: {name}: SMARTLOAD_{name.upper()} is not valid JSON"]) from exc
    return settings
