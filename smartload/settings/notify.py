"""Settings of notifications: the channels (ntfy, a webhook, Telegram), what is told and
how often. Durations of rate limits and alerts are in the service's time (the simulator's
sped-up clock when it runs embedded)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator

from smartload.settings.types import Duration, StrictModel, is_http_url


def _http_url(value: str) -> str:
    if not is_http_url(value):
        raise ValueError("must be an http(s):// URL")
    return value.rstrip("/")


class NtfySettings(StrictModel):
    url: str = "https://ntfy.sh"
    topic: str
    token: SecretStr | None = None
    priority: int = Field(default=3, ge=1, le=5)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class WebhookSettings(StrictModel):
    url: str
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class TelegramSettings(StrictModel):
    bot_token: SecretStr
    chat_id: str
    api_url: str = "https://api.telegram.org"

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class NotifySettings(StrictModel):
    """Off unless at least one channel is configured."""

    ntfy: NtfySettings | None = None
    webhook: WebhookSettings | None = None
    telegram: TelegramSettings | None = None
    evcc_unreachable_after: Duration = timedelta(minutes=10)
    shortfall_kwh: float = Field(default=1.0, gt=0)
    # The same message (kind and car) at most once per min_interval; all messages at
    # most max_per_hour, the rest summed up in one line when sending resumes.
    min_interval: Duration = timedelta(hours=1)
    max_per_hour: int = Field(default=6, ge=1)
    timeout: Duration = timedelta(seconds=10)

    @property
    def enabled(self) -> bool:
        return any((self.ntfy, self.webhook, self.telegram))
