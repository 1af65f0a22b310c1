"""Settings of the SoC providers, one model per `type`, and the ProviderSettings union that
picks one by its tag. The providers themselves live in smartload/vehicles and import their
model from here; nothing here imports them.

A cloud provider's calls are limited by a BudgetSettings (vehicles/budget.py counts them):
a daily limit, a minimum interval and a backoff after failures.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from smartload.settings.types import Duration, StrictModel, is_http_url

# A URL "embedded:/cloud/<car>/soc" is resolved against the embedded simulator's address.
EMBEDDED = "embedded:"
_INDEX = re.compile(r"\[(\d+)\]")
_PATH = re.compile(r"^[^.\s]+(\.[^.\s]+)*$")


def normalise_path(path: str) -> str:
    """A dotted path into JSON with list indexes as steps: "data[0].soc" is "data.0.soc"."""
    return _INDEX.sub(r".\1", path.strip()).strip(".")


def _check_path(path: str) -> str:
    normalised = normalise_path(path)
    if not _PATH.match(normalised):
        raise ValueError(f"not a dotted path such as 'state' or 'data.0.soc': {path!r}")
    return path


class BudgetSettings(StrictModel):
    """How often one provider may call its cloud for one car."""

    daily_limit: int = Field(ge=0)
    min_interval: Duration
    backoff_initial: Duration = timedelta(minutes=1)
    backoff_max: Duration = timedelta(hours=6)


class EvccProviderSettings(StrictModel):
    type: Literal["evcc"] = "evcc"


class FakeProviderSettings(StrictModel):
    """A scriptable provider for demos and tests: answers after `latency`."""

    type: Literal["fake"]
    latency: Duration = timedelta(seconds=2)
    soc_pct: float = Field(default=50.0, ge=0, le=100)
    staleness: Duration = timedelta(0)
    fail_every: int = Field(default=0, ge=0)


class RenaultSettings(StrictModel):
    type: Literal["renault"]
    username: str = Field(min_length=1)
    password: SecretStr
    # None: the account's only car. Required when the account holds several.
    vin: str | None = None
    # None: the person's MYRENAULT account.
    account_id: str | None = None
    locale: str = "fr_FR"
    request_timeout: Duration = timedelta(seconds=30)
    quota_cooldown: Duration = timedelta(minutes=15)
    # Home Assistant budgets 60 calls an hour per account over 7 endpoints; one
    # battery-status call every 5 minutes at most, 96 a day, stays far below.
    budget: BudgetSettings = BudgetSettings(
        daily_limit=96, min_interval=timedelta(minutes=5), backoff_initial=timedelta(minutes=2)
    )

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if not re.match(r"^[a-z]{2}_[A-Z]{2}$", value):
            raise ValueError("must look like fr_FR or de_DE")
        return value

    @field_validator("quota_cooldown")
    @classmethod
    def _cooldown(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=15):
            raise ValueError("must be at least 15m (Renault's quota needs that long to recover)")
        return value


class ForcedRefreshSettings(StrictModel):
    enabled: bool = True
    # Wake the car only when the cloud's reading is older than this.
    stale_after: Duration = timedelta(hours=4)
    # No wake-ups between these local times (kia_uvo's defaults); equal times: none.
    quiet_start: time = time(22, 0)
    quiet_end: time = time(6, 0)
    budget: BudgetSettings = BudgetSettings(
        daily_limit=3, min_interval=timedelta(hours=1), backoff_initial=timedelta(minutes=30),
        backoff_max=timedelta(hours=12),
    )

    @field_validator("quiet_start", "quiet_end", mode="before")
    @classmethod
    def _yaml_clock_time(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 22:00 as the base-60 integer 1320.
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            return time(value // 60, value % 60)
        return value

    def quiet(self, local: time) -> bool:
        start, end = self.quiet_start, self.quiet_end
        if start == end:
            return False
        return start <= local < end if start < end else local >= start or local < end


class HyundaiKiaSettings(StrictModel):
    type: Literal["kia", "hyundai"]
    username: str = Field(min_length=1)
    password: SecretStr
    pin: SecretStr | None = None
    # None: the account's only car. Required when the account holds several.
    vin: str | None = None
    language: str = "en"
    request_timeout: Duration = timedelta(seconds=30)
    # 40 cached reads of ~4 HTTP calls each plus 3 forced ones stay below ~200 calls a day.
    cached: BudgetSettings = BudgetSettings(
        daily_limit=40, min_interval=timedelta(minutes=30), backoff_initial=timedelta(minutes=5),
        backoff_max=timedelta(hours=12),
    )
    forced: ForcedRefreshSettings = ForcedRefreshSettings()


class HttpJsonSettings(StrictModel):
    type: Literal["http_json"]
    # http(s)://... or embedded:/cloud/<car>/soc (the embedded simulator's fake cloud).
    url: str
    method: Literal["GET", "POST"] = "GET"
    # Header values may be secrets, e.g. Authorization: "Bearer <token>".
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    body: dict[str, Any] | None = None
    username: str | None = None
    password: SecretStr | None = None
    soc_path: str = "soc"
    # Tried in order; the first one present wins (e.g. Home Assistant's last_reported,
    # then last_updated). Empty: the HTTP Date header, else the age is unknown.
    time_path: list[str] = Field(default_factory=list)
    source: str = "http_json"
    request_timeout: Duration = timedelta(seconds=10)
    verify_tls: bool = True
    budget: BudgetSettings = BudgetSettings(daily_limit=96, min_interval=timedelta(minutes=5))

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if is_http_url(value) or re.match(rf"^{EMBEDDED}/\S+$", value):
            return value
        raise ValueError("must be an http(s):// URL or embedded:/path (the embedded simulator)")

    @field_validator("time_path", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("soc_path")
    @classmethod
    def _soc_path(cls, value: str) -> str:
        return _check_path(value)

    @field_validator("time_path")
    @classmethod
    def _time_paths(cls, value: list[str]) -> list[str]:
        return [_check_path(p) for p in value]

    @model_validator(mode="after")
    def _auth_pair(self) -> HttpJsonSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("basic auth needs both username and password")
        if self.body is not None and self.method != "POST":
            raise ValueError("a body needs method POST")
        return self


class MqttSettings(StrictModel):
    type: Literal["mqtt"]
    host: str = "localhost"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    topic: str = Field(min_length=1)
    # None: the payload is the number itself ("63.5"). Else a dotted path into JSON.
    soc_path: str | None = None
    # Paths to a timestamp in the JSON payload, first present wins (ISO 8601 or epoch).
    time_path: list[str] = Field(default_factory=list)
    source: str = "mqtt"
    reconnect_initial: Duration = timedelta(seconds=2)
    reconnect_max: Duration = timedelta(minutes=5)

    @field_validator("topic")
    @classmethod
    def _single_topic(cls, value: str) -> str:
        if "#" in value or "+" in value:
            raise ValueError("must name one topic, without the wildcards + or #")
        return value

    @field_validator("time_path", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _paths(self) -> MqttSettings:
        if self.time_path and self.soc_path is None:
            raise ValueError("time_path needs a JSON payload: set soc_path too")
        if self.password is not None and self.username is None:
            raise ValueError("a password needs a username")
        return self


class ManualSettings(StrictModel):
    type: Literal["manual"]
    # Older values are not offered (None: any age; the planner still sees the age).
    max_age: Duration | None = None


ProviderSettings = Annotated[
    EvccProviderSettings | FakeProviderSettings | RenaultSettings | HyundaiKiaSettings | HttpJsonSettings
    | MqttSettings | ManualSettings,
    Field(discriminator="type"),
]
