"""Home Assistant's MQTT broker, found through the Supervisor: an add-on that declares
`services: [mqtt:want]` may ask GET http://supervisor/services/mqtt (with the token the
Supervisor gives it in SUPERVISOR_TOKEN) for the broker's address and a login of its own.
Used only while the settings name no broker; without one MQTT stays off, said in one line.
The add-on's own slug (GET /addons/self/info) gives Home Assistant's device page its link
to the dashboard, homeassistant://hassio/ingress/<slug>.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from loguru import logger
from pydantic import ValidationError

from smartload.settings import MqttBridgeSettings, Settings

SUPERVISOR_URL = "http://supervisor"
# Where the Supervisor is; only tests point it elsewhere.
SUPERVISOR_URL_ENV = "SMARTLOAD_SUPERVISOR_URL"
TIMEOUT_S = 10.0


def supervisor_mqtt(token: str, base_url: str = SUPERVISOR_URL) -> tuple[dict[str, Any] | None, str]:
    """The broker the Supervisor offers (its `data`: host, port, ssl, username, password,
    protocol), or None, and what happened in words without the password."""
    url = f"{base_url.rstrip('/')}/services/mqtt"
    try:
        answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        return None, f"the Supervisor did not answer ({type(exc).__name__})"
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code != 200 or not isinstance(body, dict) or body.get("result") != "ok":
        message = body.get("message") if isinstance(body, dict) else None
        why = f"HTTP {answer.status_code}" + (f": {message}" if message else "")
        return None, f"the Supervisor offers no MQTT broker ({why})"
    data = body.get("data")
    if not isinstance(data, dict) or not data.get("host"):
        return None, "the Supervisor's answer names no broker"
    return data, f"Home Assistant's broker {data['host']}:{data.get('port', 1883)}"


def supervisor_slug(token: str, base_url: str = SUPERVISOR_URL) -> str | None:
    """This add-on's slug as the Supervisor knows it (a repository's add-on has a hash
    before its name, so it cannot be written down in advance), or None."""
    try:
        answer = httpx.get(f"{base_url.rstrip('/')}/addons/self/info",
                           headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S)
        data = answer.json().get("data") if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    slug = data.get("slug") if isinstance(data, dict) else None
    return slug if isinstance(slug, str) and slug.replace("_", "").replace("-", "").isalnum() else None


def with_supervisor_mqtt(settings: Settings, environ: Mapping[str, str]) -> Settings:
    """The settings with the Supervisor's broker as mqtt (host, port, login, TLS), when
    SUPERVISOR_TOKEN is set and the settings name no broker; otherwise unchanged."""
    token = environ.get("SUPERVISOR_TOKEN")
    if settings.mqtt.enabled or not token:
        return settings
    base = environ.get(SUPERVISOR_URL_ENV) or SUPERVISOR_URL
    data, what = supervisor_mqtt(token, base)
    if data is None:
        logger.info("MQTT off: {}; Home Assistant's MQTT entities need its Mosquitto broker add-on", what)
        return settings
    found = {"host": data["host"], "port": data.get("port", 1883), "username": data.get("username") or None,
             "password": data.get("password") or None, "tls": bool(data.get("ssl", False))}
    if settings.mqtt.configuration_url is None and (slug := supervisor_slug(token, base)) is not None:
        found["configuration_url"] = f"homeassistant://hassio/ingress/{slug}"
    try:
        mqtt = MqttBridgeSettings.model_validate(settings.mqtt.model_dump() | found)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        logger.info("MQTT off: the Supervisor's broker is not usable ({})", problems)
        return settings
    logger.info("MQTT: {} (from the Supervisor)", what)
    return settings.model_copy(update={"mqtt": mqtt})
