"""Settings of SoC refreshes: how often a car's cloud may be asked, for all cars and per car."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from smartload.settings.types import Duration, StrictModel


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
    """One car's exceptions to the refresh settings (None: as for all cars)."""

    throttle: Duration | None = None
    daily_budget: int | None = Field(default=None, ge=0)
