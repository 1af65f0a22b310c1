"""The add-on's options (/data/options.json) as settings: every option, the defaults, and
errors that name the option."""

from __future__ import annotations

import pytest

from smartload.addon.options import AddonOptionsError, option_path, settings_from_addon_options
from smartload.settings import Settings

FULL = {
    "evcc_url": "http://192.168.1.20:7070",
    "evcc_password": "evcc-admin",
    "evcc_api_key": "evcc_0123456789",
    "web_token": "a-long-dashboard-token",
    "observe_only": True,
    "timezone": "Europe/Vienna",
    "log_level": "debug",
    "cars": [
        {"name": "zoe", "title": "Renault Zoe", "evcc_name": "renault_zoe", "capacity_kwh": 52, "max_charge_w": 11000,
         "target_soc_pct": 85, "provider": "renault", "username": "me@example.com", "password": "renault-pw",
         "vin": "VF1AG000000000001"},
        {"name": "ioniq", "capacity_kwh": 77.4, "provider": "hyundai", "username": "me@example.com",
         "password": "bluelink-pw", "pin": "1234"},
        {"name": "golf", "capacity_kwh": 58, "provider": "evcc"},
        {"name": "van", "capacity_kwh": 75, "provider": "manual", "username": "", "password": ""},
    ],
}


def test_every_option_becomes_its_setting():
    assert settings_from_addon_options(FULL, timezone="Europe/Berlin") == {
        "evcc": {"url": "http://192.168.1.20:7070", "password": "evcc-admin", "api_key": "evcc_0123456789"},
        "data_dir": "/data",
        "web": {"host": "0.0.0.0", "port": 8099, "token": "a-long-dashboard-token", "trusted_proxies": ["172.30.32.2"],
                "proxy_user_header": "X-Remote-User-Id"},
        "logging": {"level": "DEBUG"},
        "control": {"mode": "observe"},
        "site": {"timezone": "Europe/Vienna"},  # the option wins over Home Assistant's zone
        "vehicles": {
            "zoe": {"capacity_kwh": 52, "title": "Renault Zoe", "evcc_name": "renault_zoe", "max_charge_w": 11000,
                    "target_soc_pct": 85,
                    "provider": {"type": "renault", "username": "me@example.com", "password": "renault-pw",
                                 "vin": "VF1AG000000000001"}},
            "ioniq": {"capacity_kwh": 77.4, "provider": {"type": "hyundai", "username": "me@example.com",
                                                         "password": "bluelink-pw", "pin": "1234"}},
            "golf": {"capacity_kwh": 58, "provider": {"type": "evcc"}},
            # Home Assistant writes a cleared optional field as "": it counts as absent.
            "van": {"capacity_kwh": 75, "provider": {"type": "manual"}},
        },
    }


def test_the_mapping_is_valid_settings():
    settings = Settings.model_validate(settings_from_addon_options(FULL))
    assert (settings.evcc.url, settings.vehicles["zoe"].provider.type, settings.control.mode) == (
        "http://192.168.1.20:7070", "renault", "observe")
    assert settings.evcc_name("zoe") == "renault_zoe"
    assert settings.vehicles["ioniq"].provider.pin.get_secret_value() == "1234"


def test_the_defaults_of_the_shipped_options():
    # What config.yaml's options hold on a fresh install.
    raw = settings_from_addon_options({"evcc_url": "http://homeassistant.local:7070", "cars": [],
                                       "log_level": "info"}, timezone="America/New_York")
    assert raw == {
        "evcc": {"url": "http://homeassistant.local:7070"},
        "data_dir": "/data",
        "web": {"host": "0.0.0.0", "port": 8099, "token": None, "trusted_proxies": ["172.30.32.2"],
                "proxy_user_header": "X-Remote-User-Id"},
        "logging": {"level": "INFO"},
        "control": {"mode": "act"},
        "site": {"timezone": "America/New_York"},  # Home Assistant's (TZ)
        "vehicles": {},
    }
    # Without either zone the settings' default stands; a car's provider defaults to evcc.
    raw = settings_from_addon_options({"evcc_url": "http://evcc:7070",
                                       "cars": [{"name": "zoe", "capacity_kwh": 52}]})
    assert "site" not in raw and raw["vehicles"] == {"zoe": {"capacity_kwh": 52, "provider": {"type": "evcc"}}}
    assert raw["logging"] == {"level": "INFO"}


def test_bad_options_are_named_each_with_what_is_wrong():
    options = {
        "evcc_url": 7070, "log_level": "loud", "observe_only": "yes", "colour": "red",
        "cars": [
            {"name": "Zoe Car", "capacity_kwh": "52", "provider": "renault", "username": "me@example.com"},
            {"capacity_kwh": 40, "provider": "tesla"},
            {"name": "golf", "provider": "evcc", "password": "x", "wheels": 4},
            {"name": "golf", "capacity_kwh": 58},
            "ioniq",
        ],
    }
    with pytest.raises(AddonOptionsError) as error:
        settings_from_addon_options(options)
    assert error.value.problems == [
        "colour: unknown option",
        "evcc_url: must be text (got int)",
        "log_level: 'loud' is not one of trace, debug, info, warning, error",
        "observe_only: must be true or false (got 'yes')",
        "cars[0].name: 'Zoe Car' must be lower-case letters, digits, - or _ (e.g. zoe)",
        "cars[0].capacity_kwh: must be a number (got str)",
        "cars[0].password: required for provider renault",
        "cars[1].name: required (a short id such as zoe)",
        "cars[1].provider: 'tesla' is not one of evcc, manual, renault, kia, hyundai",
        "cars[2].wheels: unknown option",
        "cars[2].capacity_kwh: required (the usable battery capacity in kWh)",
        "cars[2].password: provider evcc takes no password",
        "cars[3].name: 'golf' is already the name of an earlier car",
        "cars[4]: must be a mapping of car options",
    ]
    # No line shows a secret the user typed.
    assert "x" not in [line.rsplit(" ", 1)[-1] for line in error.value.problems]


def test_a_missing_evcc_url_and_cars_that_are_no_list():
    with pytest.raises(AddonOptionsError) as error:
        settings_from_addon_options({"cars": {"zoe": {}}})
    assert error.value.problems == ["evcc_url: required (evcc's address, e.g. http://homeassistant.local:7070)",
                                    "cars: must be a list of cars"]


@pytest.mark.parametrize(("loc", "option"), [
    (("evcc", "url"), "evcc_url"),
    (("evcc", "password"), "evcc_password"),
    (("evcc", "poll_interval"), None),
    (("web", "token"), "web_token"),
    (("web", "host"), None),
    (("site", "timezone"), "timezone"),
    (("logging", "level"), "log_level"),
    (("control", "mode"), "observe_only"),
    (("vehicles", "ioniq", "capacity_kwh"), "cars[1].capacity_kwh"),
    (("vehicles", "zoe", "provider", "renault", "vin"), "cars[0].vin"),
    (("vehicles", "zoe", "provider"), "cars[0].provider"),
    (("vehicles", "zoe", "refresh", "throttle"), None),
    (("vehicles", "nobody", "capacity_kwh"), None),
    (("data_dir",), None),
    ((), None),
])
def test_the_option_behind_a_settings_key(loc, option):
    assert option_path(FULL, loc) == option
