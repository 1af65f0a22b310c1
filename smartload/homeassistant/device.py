"""Who publishes the discovery messages and the devices they describe: the origin block,
the smartload device (version, a link to the dashboard) and one device per car."""

from __future__ import annotations

import ipaddress
from typing import Any

from smartload.settings import Settings, VehicleSettings
from smartload.settings.mqtt import MqttBridgeSettings
from smartload.settings.web import WebSettings

ORIGIN_NAME = "smartload"


def dashboard_url(web: WebSettings) -> str | None:
    """The dashboard's address as the web settings give it; None while the server is off,
    picks its port at start (0), or listens on every address with no name to reach it by
    (web.allowed_hosts lists the names it answers to)."""
    if not web.enabled or web.port == 0:
        return None
    host = web.host
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None and address.is_unspecified:
        if not web.allowed_hosts:
            return None
        host = web.allowed_hosts[0].rstrip(".")
    elif address is not None and address.version == 6:
        host = f"[{address}]"
    return f"http://{host}:{web.port}/"


def origin(version: str) -> dict[str, Any]:
    return {"name": ORIGIN_NAME, "sw_version": version}


def site_device(settings: Settings, mqtt: MqttBridgeSettings, version: str) -> dict[str, Any]:
    device: dict[str, Any] = {"identifiers": [mqtt.node_id], "name": "smartload", "manufacturer": "smartload",
                              "model": "charge planner", "sw_version": version}
    url = mqtt.configuration_url or dashboard_url(settings.web)
    if url is not None:
        device["configuration_url"] = url
    return device


def car_device(mqtt: MqttBridgeSettings, vehicle: str, config: VehicleSettings) -> dict[str, Any]:
    device: dict[str, Any] = {"identifiers": [f"{mqtt.node_id}_{vehicle}"], "name": config.title or vehicle,
                              "via_device": mqtt.node_id}
    # Home Assistant refuses a null where it expects a string: absent fields stay out.
    if config.manufacturer:
        device["manufacturer"] = config.manufacturer
    if config.model:
        device["model"] = config.model
    return device
