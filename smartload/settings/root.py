"""Settings: the root model, one field per section, read from settings.yaml and overridden
by SMARTLOAD_* environment variables (SMARTLOAD_<SECTION>__<KEY>, environment.py).

Every model forbids unknown keys so a typo is an error, not a silently ignored option.
load.py reads a file into it and turns every problem into one readable line.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from smartload.settings.battery import HomeBatterySettings
from smartload.settings.control import ControlSettings
from smartload.settings.evcc import EvccSettings
from smartload.settings.logging import LoggingSettings
from smartload.settings.mqtt import MqttBridgeSettings
from smartload.settings.notify import NotifySettings
from smartload.settings.planning import PlanningSettings
from smartload.settings.refresh import RefreshOverride, RefreshSettings
from smartload.settings.sim import SimSettings
from smartload.settings.site import SiteSettings, TickSettings
from smartload.settings.store import StoreSettings
from smartload.settings.vehicles import VehicleSettings
from smartload.settings.web import WebSettings


class Settings(BaseModel):
    # Defaults are validated too, as pydantic-settings did (load.py lays the environment,
    # environment.py, over the file's mapping and validates the two together).
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, defer_build=True)

    evcc: EvccSettings = EvccSettings()
    site: SiteSettings = SiteSettings()
    tick: TickSettings = TickSettings()
    refresh: RefreshSettings = RefreshSettings()
    vehicles: dict[str, VehicleSettings] = {}
    planning: PlanningSettings = PlanningSettings()
    battery: HomeBatterySettings = HomeBatterySettings()
    control: ControlSettings = ControlSettings()
    logging: LoggingSettings = LoggingSettings()
    data_dir: Path = Path("data")
    sim: SimSettings = SimSettings()
    web: WebSettings = WebSettings()
    store: StoreSettings = StoreSettings()
    mqtt: MqttBridgeSettings = MqttBridgeSettings()
    notify: NotifySettings = NotifySettings()

    def evcc_name(self, vehicle: str) -> str:
        return self.vehicles[vehicle].evcc_name or vehicle

    def vehicles_by_evcc_name(self) -> dict[str, str]:
        """The configured vehicle each evcc vehicle name stands for."""
        return {self.evcc_name(v): v for v in self.vehicles}

    def refresh_for(self, vehicle: str) -> tuple[timedelta, int]:
        """The throttle window and daily budget in force for one vehicle."""
        override = self.vehicles[vehicle].refresh if vehicle in self.vehicles else RefreshOverride()
        throttle = override.throttle or self.refresh.throttle
        budget = self.refresh.daily_budget if override.daily_budget is None else override.daily_budget
        return throttle, budget
