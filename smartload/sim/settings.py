"""Settings of the embedded evcc simulator (extended by the simulator issue)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SimSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    speed: float = Field(default=60.0, gt=0)
    scenario: str = "household"
    port: int = Field(default=0, ge=0, le=65535)
