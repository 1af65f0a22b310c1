"""Settings of the history store: how long it keeps what happened."""

from __future__ import annotations

from pydantic import Field

from smartload.settings.types import StrictModel


class StoreSettings(StrictModel):
    retention_days: int = Field(default=90, ge=1)
