"""Builds each configured vehicle's provider from settings."""

from __future__ import annotations

from collections.abc import Callable

from smartload.domain import SocReading
from smartload.settings import EvccProviderSettings, FakeProviderSettings, Settings
from smartload.vehicles.base import VehicleProvider
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


ExtraFactory = Callable[[str, object], VehicleProvider | None]


def build_providers(
    settings: Settings, book: EvccSocBook, extra: ExtraFactory | None = None
) -> dict[str, VehicleProvider]:
    """One provider per configured vehicle. `extra` builds provider types that need a
    live adapter (e.g. the embedded simulator's car cloud)."""
    evcc = EvccProvider(book.lookup)
    providers: dict[str, VehicleProvider] = {}
    for vehicle, config in settings.vehicles.items():
        spec = config.provider
        if isinstance(spec, EvccProviderSettings):
            providers[vehicle] = evcc
        elif isinstance(spec, FakeProviderSettings):
            providers[vehicle] = FakeProvider(
                default=FakeAnswer(spec.soc_pct, age=spec.staleness), latency=spec.latency, fail_every=spec.fail_every
            )
        else:
            made = extra(vehicle, spec) if extra else None
            if made is None:
                raise ValueError(f"vehicles.{vehicle}.provider: type {spec.type!r} cannot run here")
            providers[vehicle] = made
    return providers
