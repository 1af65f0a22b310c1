"""The devices' fields from the settings: the dashboard link, the unique-id prefix and the
cars' maker and model; bad values refused with the key named."""

from __future__ import annotations

import pytest

from smartload.homeassistant.device import dashboard_url, site_device
from smartload.settings import MqttBridgeSettings, Settings, describe
from smartload.settings.web import WebSettings
from tests.web.builders import settings


@pytest.mark.parametrize(("web", "url"), [
    ({}, "http://127.0.0.1:8099/"),
    ({"host": "192.168.1.20", "port": 80}, "http://192.168.1.20:80/"),
    ({"host": "::1"}, "http://[::1]:8099/"),
    ({"host": "smartload.lan"}, "http://smartload.lan:8099/"),
    # Every address: the first name it answers to, else no address to give.
    ({"host": "0.0.0.0", "allowed_hosts": ["smartload.local.", "pi"]}, "http://smartload.local:8099/"),
    ({"host": "::", "allowed_hosts": []}, None),
    ({"enabled": False}, None),
    ({"port": 0}, None),  # the port is chosen at start
])
def test_the_dashboard_address_comes_from_the_web_settings(web, url) -> None:
    assert dashboard_url(WebSettings.model_validate(web)) == url


def test_a_configuration_url_of_its_own_wins_over_the_dashboard(tmp_path) -> None:
    config = settings(tmp_path, web={"port": 8099}, mqtt={"configuration_url": "homeassistant://hassio/ingress/sl"})
    device = site_device(config, config.mqtt, "1.2.3")
    assert (device["configuration_url"], device["sw_version"]) == ("homeassistant://hassio/ingress/sl", "1.2.3")
    without = config.mqtt.model_copy(update={"configuration_url": None})
    assert site_device(config, without, "1.2.3")["configuration_url"] == "http://127.0.0.1:8099/"
    off = config.model_copy(update={"web": config.web.model_copy(update={"enabled": False})})
    assert "configuration_url" not in site_device(off, without, "1.2.3")


def test_the_unique_id_prefix_is_the_client_id_unless_set() -> None:
    assert MqttBridgeSettings(client_id="garage").node_id == "garage"  # as before the setting existed
    assert MqttBridgeSettings(client_id="garage-2", unique_id_prefix="garage").node_id == "garage"


def problems(data: dict) -> list[str]:
    try:
        Settings.model_validate(data)
    except Exception as exc:  # pydantic's ValidationError
        return [describe(e) for e in exc.errors()]  # type: ignore[attr-defined]
    return []


def test_bad_values_are_refused_with_the_key_named(tmp_path) -> None:
    base = {"data_dir": str(tmp_path), "vehicles": {"zoe": {"capacity_kwh": 52, "manufacturer": "Renault",
                                                              "model": "Zoe"}}}
    assert problems(base) == []
    assert problems({**base, "mqtt": {"unique_id_prefix": "my home", "configuration_url": "ftp://pi/"}}) == [
        "mqtt.unique_id_prefix: must be letters, digits, _ or - (it becomes part of topics and entity ids) "
        "(got 'my home')",
        "mqtt.configuration_url: must be an http(s):// or homeassistant:// URL (got 'ftp://pi/')"]
