"""Builds each configured vehicle's provider from settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from smartload.domain import SocReading
from smartload.settings import EvccProviderSettings, FakeProviderSettings, Settings
from smartload.vehicles import http_json, hyundai_kia, manual, mqtt, renault
from smartload.vehicles.base import VehicleProvider
from smartload.vehicles.budget import utc_now
from smartload.vehicles.evcc import EvccProvider
from smartload.vehicles.fake import FakeAnswer, FakeProvider


class EvccSocBook:
    """The newest SoC evcc showed per vehicle, kept for the passive provider."""

    def __init__(self) -> None:
        self._latest: dict[str, SocReading] = {}

    def record(self, reading: SocReading) -> None:
        self._latest[reading.vehicle] = reading

    def lookup(self, vehicle: str) -> SocReading | None:
        return self._latest.get(vehicle)


def build_providers(
    settings: Settings,
    book: EvccSocBook,
    embedded_base_url: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, VehicleProvider]:
    """One provider per configured vehicle. `embedded_base_url` resolves http_json URLs
    of the form "embedded:/cloud/zoe/soc" against the embedded simulator; `clock` is the
    time the budgets count in (the simulator's, when it runs sped up)."""
    evcc = EvccProvider(book.lookup)
    tz = settings.site.tz
    providers: dict[str, VehicleProvider] = {}
    for vehicle, config in settings.vehicles.items():
        spec = config.provider
        provider: VehicleProvider
        if isinstance(spec, EvccProviderSettings):
            provider = evcc
        elif isinstance(spec, FakeProviderSettings):
            provider = FakeProvider(
                default=FakeAnswer(spec.soc_pct, age=spec.staleness), latency=spec.latency, fail_every=spec.fail_every
            )
        elif isinstance(spec, renault.RenaultSettings):
            provider = renault.build(vehicle, spec, tz=tz, clock=clock)
        elif isinstance(spec, hyundai_kia.HyundaiKiaSettings):
            provider = hyundai_kia.build(vehicle, spec, tz=tz, clock=clock)
        elif isinstance(spec, http_json.HttpJsonSettings):
            provider = http_json.build(vehicle, spec, tz=tz, clock=clock, embedded_base_url=embedded_base_url)
        elif isinstance(spec, mqtt.MqttSettings):
            provider = mqtt.build(vehicle, spec, tz=tz, clock=clock)
        else:
            provider = manual.build(vehicle, spec, data_dir=settings.data_dir, clock=clock)
        providers[vehicle] = provider
    return providers
