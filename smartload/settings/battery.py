"""Settings of the home battery, if evcc shows one: its limits, losses and wear."""

from __future__ import annotations

from pydantic import Field

from smartload.settings.types import StrictModel


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
