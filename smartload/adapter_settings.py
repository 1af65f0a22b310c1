"""Settings of what sits on top of the pipeline: web server, history store, MQTT for Home
Assistant and notifications. settings.py imports these models, so only pydantic and
config_types here (no smartload.settings: that would be an import cycle).

Durations of rate limits and alerts are in the service's time (the simulator's sped-up
clock when it runs embedded); the web server's keep-alive is wall-clock transport time.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta

from pydantic import Field, SecretStr, field_validator

from smartload.config_types import Duration, StrictModel

_HTTP_URL = re.compile(r"^https?://[^\s/]+")
_TOPIC = re.compile(r"^[^#+\s]+$")
_HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\.?$")


def _http_url(value: str) -> str:
    if not _HTTP_URL.match(value):
        raise ValueError("must be an http(s):// URL")
    return value.rstrip("/")


class WebSettings(StrictModel):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8099, ge=0, le=65535)
    # None: a token generated into <data_dir>/web_token at the first start and printed once.
    token: SecretStr | None = None
    cors_origins: list[str] = Field(default_factory=list)
    # Names besides localhost the server answers to (the Host header), e.g. smartload.local;
    # any other name is refused, so a DNS-rebinding page cannot read the API.
    allowed_hosts: list[str] = Field(default_factory=list)
    sse_keepalive: Duration = timedelta(seconds=15)

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for name in value:
            try:
                ipaddress.ip_address(name.strip("[]"))
            except ValueError:
                if not _HOST_NAME.match(name):
                    raise ValueError(f"{name!r} is not a host name such as smartload.local (no scheme, no port)") \
                        from None
        return value


class StoreSettings(StrictModel):
    retention_days: int = Field(default=90, ge=1)


class MqttBridgeSettings(StrictModel):
    """MQTT for Home Assistant; off while host is None."""

    host: str | None = None
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    client_id: str = "smartload"
    topic_prefix: str = "smartload"
    discovery: bool = True
    discovery_prefix: str = "homeassistant"
    boost_minutes: int = Field(default=60, ge=1, le=1440)
    reconnect_max: Duration = timedelta(minutes=1)

    @field_validator("topic_prefix", "discovery_prefix")
    @classmethod
    def _topic(cls, value: str) -> str:
        value = value.strip("/")
        if not value or not _TOPIC.match(value):
            raise ValueError("must be a topic without wildcards or spaces")
        return value

    @property
    def enabled(self) -> bool:
        return self.host is not None


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
