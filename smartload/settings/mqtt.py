"""Settings of MQTT for Home Assistant: the broker, topics, discovery and the boost button.
Its reconnect backoff is in the service's time (the simulator's sped-up clock when it runs
embedded)."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, SecretStr, field_validator

from smartload.settings.types import Duration, StrictModel

_TOPIC = re.compile(r"^[^#+\s]+$")


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
