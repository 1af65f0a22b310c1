"""Settings of the connection to evcc: where it is, how to log in, how often to read it."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr, field_validator

from smartload.settings.types import Duration, StrictModel, is_http_url, positive_duration


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
        if value == "embedded" or is_http_url(value):
            return value.rstrip("/")
        raise ValueError("must be 'embedded' or an http(s):// URL such as http://evcc.local:7070")

    @field_validator("poll_interval", "request_timeout", "outage_backoff_max")
    @classmethod
    def _positive_durations(cls, value: timedelta) -> timedelta:
        return positive_duration(value)
