"""Settings of the site and its clock: the time zone and the period of decision ticks."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from pydantic import field_validator

from smartload.settings.types import Duration, StrictModel, check_timezone, positive_duration


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
        seconds = positive_duration(value).total_seconds()
        if 3600 % seconds and seconds % 3600:
            raise ValueError("must divide an hour (e.g. 5m, 15m) so ticks sit on the wall clock")
        return value
