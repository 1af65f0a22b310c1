"""Settings of each car: its battery, provider, charge defaults, wallboxes, and the weekly
departure schedule (also the planning default's)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from smartload.settings.providers import EvccProviderSettings, ProviderSettings
from smartload.settings.refresh import RefreshOverride
from smartload.settings.types import (
    REQUEST_MAX_PRIORITY,
    REQUEST_MAX_TARGET_SOC_PCT,
    REQUEST_MIN_TARGET_SOC_PCT,
    StrictModel,
    is_clock,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_departures(value: dict[str, str | None]) -> dict[str, str | None]:
    """A field validator body: each weekday's departure is a time of day HH:MM or None."""
    for day, clock in value.items():
        if clock is not None and not is_clock(clock):
            raise ValueError(f"{day}: {clock!r} is not a time of day HH:MM")
    return value


class VehicleSettings(StrictModel):
    evcc_name: str | None = None
    title: str = ""
    # Shown on the car's device in Home Assistant; nothing else reads them.
    manufacturer: str | None = None
    model: str | None = None
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
    # Driver habits before any are learned (habits.py): when the car usually comes home,
    # with what SoC, and when it usually leaves (HH:MM, every day). Learned ones replace them.
    usual_arrival: str | None = None
    usual_arrival_soc_pct: float | None = Field(default=None, ge=0, le=100)
    usual_departure: str | None = None

    @field_validator("usual_arrival", "usual_departure")
    @classmethod
    def _usual(cls, value: str | None) -> str | None:
        if value is not None and not is_clock(value):
            raise ValueError(f"{value!r} is not a time of day HH:MM")
        return value

    @field_validator("departures")
    @classmethod
    def _departures(cls, value: dict[str, str | None] | None) -> dict[str, str | None] | None:
        return None if value is None else check_departures(value)
