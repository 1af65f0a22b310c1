"""The Home Assistant add-on's options (/data/options.json, written by the Supervisor from
the add-on's Configuration tab) as the raw settings mapping that settings.yaml would hold.

The Supervisor checks the options against the schema in addon/smartload/config.yaml before
the add-on starts, but the file can be edited by hand and the schema cannot say everything
(a password a provider needs, two cars of one name): this module checks what it maps and
names the option, e.g. `cars[1].password`, in every error. The settings models then check
the values; `option_path` names the option behind a settings key in their errors too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# What the add-on runs with besides the options: its data folder (kept across updates and
# in Home Assistant's backups), and the dashboard on the ingress port, reachable only
# through the Supervisor's proxy unless the user maps the port.
ADDON_DATA_DIR = "/data"
INGRESS_PORT = 8099
# The Supervisor's ingress proxy: its requests carry the browser's Host header, and the
# user Home Assistant has logged in in this header (so writes through it need no token).
INGRESS_PROXY = "172.30.32.2"
INGRESS_USER_HEADER = "X-Remote-User-Id"

LOG_LEVELS = ("trace", "debug", "info", "warning", "error")
PROVIDERS = ("evcc", "manual", "renault", "kia", "hyundai")
_CAR_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_TOP = {"evcc_url", "evcc_password", "evcc_api_key", "web_token", "observe_only", "timezone", "cars", "log_level"}
_CAR = {"name", "title", "evcc_name", "capacity_kwh", "max_charge_w", "target_soc_pct", "provider",
        "username", "password", "pin", "vin"}
# Which credentials each provider takes (a cloud login), and which it must have.
_CREDENTIALS = {"renault": ("username", "password", "vin"), "kia": ("username", "password", "pin", "vin"),
                "hyundai": ("username", "password", "pin", "vin")}
_REQUIRED = ("username", "password")


class AddonOptionsError(ValueError):
    """Options that cannot become settings; `problems` holds one "option: why" line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _text(options: Mapping[str, Any], key: str, where: str, problems: list[str]) -> str | None:
    """The option as stripped text; None when absent or empty (Home Assistant writes an
    optional field the user cleared as an empty string or leaves it out)."""
    value = options.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{where}{key}: must be text (got {type(value).__name__})")
        return None
    return value.strip() or None


def _number(options: Mapping[str, Any], key: str, where: str, problems: list[str]) -> float | None:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}{key}: must be a number (got {type(value).__name__})")
        return None
    return value


def _car(car: Any, index: int, problems: list[str]) -> tuple[str, dict[str, Any]] | None:
    where = f"cars[{index}]."
    if not isinstance(car, Mapping):
        problems.append(f"cars[{index}]: must be a mapping of car options")
        return None
    problems += [f"{where}{key}: unknown option" for key in sorted(set(car) - _CAR)]
    name = _text(car, "name", where, problems)
    if name is None:
        problems.append(f"{where}name: required (a short id such as zoe)")
    elif not _CAR_NAME.match(name):
        problems.append(f"{where}name: {name!r} must be lower-case letters, digits, - or _ (e.g. zoe)")
    capacity = _number(car, "capacity_kwh", where, problems)
    if capacity is None and "capacity_kwh" not in car:
        problems.append(f"{where}capacity_kwh: required (the usable battery capacity in kWh)")
    vehicle: dict[str, Any] = {"capacity_kwh": capacity}
    for key in ("title", "evcc_name"):
        if (text := _text(car, key, where, problems)) is not None:
            vehicle[key] = text
    for key in ("max_charge_w", "target_soc_pct"):
        if (number := _number(car, key, where, problems)) is not None:
            vehicle[key] = number
    provider_type = _text(car, "provider", where, problems) or "evcc"
    if provider_type not in PROVIDERS:
        problems.append(f"{where}provider: {provider_type!r} is not one of {', '.join(PROVIDERS)}")
        return None
    provider: dict[str, Any] = {"type": provider_type}
    takes = _CREDENTIALS.get(provider_type, ())
    for key in ("username", "password", "pin", "vin"):
        value = _text(car, key, where, problems)
        if key in takes and value is not None:
            provider[key] = value
        elif key in takes and key in _REQUIRED:
            problems.append(f"{where}{key}: required for provider {provider_type}")
        elif value is not None:
            problems.append(f"{where}{key}: provider {provider_type} takes no {key}")
    vehicle["provider"] = provider
    return name or "", vehicle


def settings_from_addon_options(options: Mapping[str, Any], *, timezone: str | None = None) -> dict[str, Any]:
    """The raw settings mapping (what settings.yaml would hold) for the add-on's options;
    `timezone` is Home Assistant's (the Supervisor sets TZ), used unless the options name
    one. Raises AddonOptionsError naming each bad option."""
    problems = [f"{key}: unknown option" for key in sorted(set(options) - _TOP)]
    url = _text(options, "evcc_url", "", problems)
    if url is None and "evcc_url" not in options:
        problems.append("evcc_url: required (evcc's address, e.g. http://homeassistant.local:7070)")
    level = (_text(options, "log_level", "", problems) or "info").lower()
    if level not in LOG_LEVELS:
        problems.append(f"log_level: {level!r} is not one of {', '.join(LOG_LEVELS)}")
    observe = options.get("observe_only", False)
    if not isinstance(observe, bool):
        problems.append(f"observe_only: must be true or false (got {observe!r})")
    evcc: dict[str, Any] = {"url": url}
    for key in ("password", "api_key"):
        if (secret := _text(options, f"evcc_{key}", "", problems)) is not None:
            evcc[key] = secret
    settings: dict[str, Any] = {
        "evcc": evcc,
        "data_dir": ADDON_DATA_DIR,
        "web": {"host": "0.0.0.0", "port": INGRESS_PORT, "token": _text(options, "web_token", "", problems),
                "trusted_proxies": [INGRESS_PROXY], "proxy_user_header": INGRESS_USER_HEADER},
        "logging": {"level": level.upper()},
        "control": {"mode": "observe" if observe is True else "act"},
    }
    zone = _text(options, "timezone", "", problems) or timezone
    if zone is not None:
        settings["site"] = {"timezone": zone}
    cars = options.get("cars", [])
    if not isinstance(cars, list):
        problems.append("cars: must be a list of cars")
        cars = []
    vehicles: dict[str, Any] = {}
    for index, car in enumerate(cars):
        mapped = _car(car, index, problems)
        if mapped is None:
            continue
        name, vehicle = mapped
        if name in vehicles:
            problems.append(f"cars[{index}].name: {name!r} is already the name of an earlier car")
        vehicles[name] = vehicle
    settings["vehicles"] = vehicles
    if problems:
        raise AddonOptionsError(problems)
    return settings


def option_path(options: Mapping[str, Any], loc: tuple[str | int, ...]) -> str | None:
    """The option behind a settings key path (a settings model's error location), e.g.
    ("vehicles", "zoe", "capacity_kwh") -> "cars[0].capacity_kwh"; None for a key no
    option sets."""
    if not loc:
        return None
    head = loc[0]
    if head in ("evcc", "web") and len(loc) > 1:
        name = f"{head}_{loc[1]}" if head == "evcc" else "web_token" if loc[1] == "token" else None
        return name if name in _TOP else None
    if head == "site":
        return "timezone"
    if head == "logging":
        return "log_level"
    if head == "control":
        return "observe_only"
    if head != "vehicles" or len(loc) < 3:
        return None
    cars = options.get("cars", [])
    index = next((i for i, car in enumerate(cars) if isinstance(car, Mapping) and car.get("name") == loc[1]), None)
    if index is None:
        return None
    key = str(loc[2])
    if key == "provider":
        # The provider's own key, after the union's tag in the path: provider.renault.password.
        inner = [str(part) for part in loc[3:] if part not in PROVIDERS]
        key = inner[0] if inner else "provider"
    return f"cars[{index}].{key}" if key in _CAR else None
