"""Every settings model, one module per section of settings.yaml:

types.py      durations, times of day, URLs, time zones, request bounds, secret names
evcc.py       evcc            site.py      site, tick         refresh.py   refresh
vehicles.py   vehicles (and the weekly departure schedule)    providers.py each car's provider
planning.py   planning        battery.py   battery            control.py   control
logging.py    logging         sim.py       sim                web.py       web
store.py      store           mqtt.py      mqtt               notify.py    notify
root.py       Settings, all sections together                 load.py      load_settings

Settings modules import nothing from smartload but each other: the code that uses the
settings (the providers in smartload/vehicles among it) imports them, never the reverse.
Every name is importable from here.
"""

from __future__ import annotations

from smartload.settings.battery import HomeBatterySettings
from smartload.settings.control import ControlSettings
from smartload.settings.evcc import EvccSettings
from smartload.settings.load import SettingsError, describe, load_settings
from smartload.settings.logging import LoggingSettings
from smartload.settings.mqtt import MqttBridgeSettings
from smartload.settings.notify import NotifySettings, NtfySettings, TelegramSettings, WebhookSettings
from smartload.settings.planning import PlanningSettings
from smartload.settings.providers import (
    EMBEDDED,
    BudgetSettings,
    EvccProviderSettings,
    FakeProviderSettings,
    ForcedRefreshSettings,
    HttpJsonSettings,
    HyundaiKiaSettings,
    ManualSettings,
    MqttSettings,
    ProviderSettings,
    RenaultSettings,
)
from smartload.settings.refresh import RefreshOverride, RefreshSettings
from smartload.settings.root import Settings
from smartload.settings.sim import SimSettings, version_tuple
from smartload.settings.site import SiteSettings, TickSettings
from smartload.settings.store import StoreSettings
from smartload.settings.types import (
    REQUEST_MAX_AHEAD,
    REQUEST_MAX_ENERGY_KWH,
    REQUEST_MAX_PRIORITY,
    REQUEST_MAX_TARGET_SOC_PCT,
    REQUEST_MIN_TARGET_SOC_PCT,
    Duration,
    StrictModel,
    check_timezone,
    is_clock,
    is_http_url,
    parse_clock,
    parse_duration,
    positive_duration,
    secret_name,
    secret_path,
)
from smartload.settings.vehicles import WEEKDAYS, VehicleSettings, Weekday, check_departures
from smartload.settings.web import WebSettings

__all__ = [
    "EMBEDDED",
    "REQUEST_MAX_AHEAD",
    "REQUEST_MAX_ENERGY_KWH",
    "REQUEST_MAX_PRIORITY",
    "REQUEST_MAX_TARGET_SOC_PCT",
    "REQUEST_MIN_TARGET_SOC_PCT",
    "WEEKDAYS",
    "BudgetSettings",
    "ControlSettings",
    "Duration",
    "EvccProviderSettings",
    "EvccSettings",
    "FakeProviderSettings",
    "ForcedRefreshSettings",
    "HomeBatterySettings",
    "HttpJsonSettings",
    "HyundaiKiaSettings",
    "LoggingSettings",
    "ManualSettings",
    "MqttBridgeSettings",
    "MqttSettings",
    "NotifySettings",
    "NtfySettings",
    "PlanningSettings",
    "ProviderSettings",
    "RefreshOverride",
    "RefreshSettings",
    "RenaultSettings",
    "Settings",
    "SettingsError",
    "SimSettings",
    "SiteSettings",
    "StoreSettings",
    "StrictModel",
    "TelegramSettings",
    "TickSettings",
    "VehicleSettings",
    "WebSettings",
    "WebhookSettings",
    "Weekday",
    "check_departures",
    "check_timezone",
    "describe",
    "is_clock",
    "is_http_url",
    "load_settings",
    "parse_clock",
    "parse_duration",
    "positive_duration",
    "secret_name",
    "secret_path",
    "version_tuple",
]
