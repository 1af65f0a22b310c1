"""Settings of MQTT for Home Assistant: the broker, topics, discovery and the boost button.
Its reconnect backoff is in the service's time (the simulator's sped-up clock when it runs
embedded)."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, SecretStr, field_validator

from smartload.settings.types import Duration, StrictModel, is_http_url

_TOPIC = re.compile(r"^[^#+\s]+$")
# Home Assistant's discovery topic takes a node id of these characters only; the unique ids
# and entity ids made from it stay valid with them too.
_NODE_ID = re.compile(r"^[A-Za-z0-9_-]+$")


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
    # The start of every unique id, device identifier and discovery node id. None: the
    # client id, which is what they were made of before this setting existed, so an
    # installation keeps its entities (and their history) in Home Assistant. Set it to give
    # the client id its own value without losing them.
    unique_id_prefix: str | None = None
    # The link on the smartload device in Home Assistant. None: the dashboard's address from
    # the web settings (none while the web server is off or listens on every address with
    # no name in web.allowed_hosts). The add-on sets homeassistant://hassio/ingress/<slug>.
    configuration_url: str | None = None
    boost_minutes: int = Field(default=60, ge=1, le=1440)
    reconnect_max: Duration = timedelta(minutes=1)

    @field_validator("topic_prefix", "discovery_prefix")
    @classmethod
    def _topic(cls, value: str) -> str:
        value = value.strip("/")
        if not value or not _TOPIC.match(value):
            raise ValueError("must be a topic without wildcards or spaces")
        return value

    @field_validator("unique_id_prefix")
    @classmethod
    def _node(cls, value: str | None) -> str | None:
        if value is not None and not _NODE_ID.match(value):
            raise ValueError("must be letters, digits, _ or - (it becomes part of topics and entity ids)")
        return value

    @field_validator("configuration_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not (is_http_url(value) or value.startswith("homeassistant://")):
            raise ValueError("must be an http(s):// or homeassistant:// URL")
        return value

    @property
    def enabled(self) -> bool:
        return self.host is not None

    @property
    def node_id(self) -> str:
        """The prefix of unique ids and the discovery node id."""
        return self.unique_id_prefix or self.client_id
