"""Builds each configured vehicle's provider from settings.

resolve_providers is the one judge of the provider settings: `run` builds with it and
`check-config` asks it, so the two cannot disagree. A provider that exists only in the
embedded simulator (an "embedded:" URL) falls back to evcc's SoC when evcc is a real one,
with a warning; a provider that cannot run here (Kia/Hyundai without its library) is a
problem, reported as a settings problem rather than a traceback. Each provider's module is
imported when a car uses it, so check-config loads only the providers it checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from smartload.domain import SocReading
from smartload.settings import Settings, SettingsError
from smartload.settings.providers import (
    EMBEDDED,
    EvccProviderSettings,
    FakeProviderSettings,
    HttpJsonSettings,
    HyundaiKiaSettings,
    MqttSettings,
    ProviderSettings,
    RenaultSettings,
)
from smartload.vehicles.base import VehicleProvider
from smartload.vehicles.budget import utc_now
from smartload.vehicles.evcc import EvccProvider


class EvccSocBook:
    """The newest SoC evcc showed per vehicle, kept for the passive provider."""

    def __init__(self) -> None:
        self._latest: dict[str, SocReading] = {}

    def record(self, reading: SocReading) -> None:
        self._latest[reading.vehicle] = reading

    def lookup(self, vehicle: str) -> SocReading | None:
        return self._latest.get(vehicle)


# Stands in for the embedded simulator's address when the settings are only checked: when
# `run` starts it, the address is known before the providers are built.
_SIMULATOR_FOR_CHECKS = "http://127.0.0.1:1"


@dataclass
class Resolved:
    providers: dict[str, VehicleProvider] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # "<key path>: why", one per fallback
    problems: list[str] = field(default_factory=list)  # "<key path>: why", one per setting run rejects


def _effective(vehicle: str, spec: ProviderSettings, simulator: bool) -> tuple[ProviderSettings, str | None]:
    if isinstance(spec, HttpJsonSettings) and spec.url.startswith(EMBEDDED) and not simulator:
        return EvccProviderSettings(), (
            f"vehicles.{vehicle}.provider.url: {spec.url!r} exists only in the embedded simulator and evcc.url "
            f"is not 'embedded': {vehicle} takes evcc's SoC instead (provider type evcc)")
    return spec, None


def _build(vehicle: str, spec: ProviderSettings, settings: Settings, evcc: EvccProvider,
           embedded_base_url: str | None, clock: Callable[[], datetime]) -> VehicleProvider:
    tz = settings.site.tz
    if isinstance(spec, EvccProviderSettings):
        return evcc
    if isinstance(spec, FakeProviderSettings):
        from smartload.vehicles.fake import FakeAnswer, FakeProvider

        return FakeProvider(
            default=FakeAnswer(spec.soc_pct, age=spec.staleness), latency=spec.latency, fail_every=spec.fail_every
        )
    if isinstance(spec, RenaultSettings):
        from smartload.vehicles import renault

        return renault.build(vehicle, spec, tz=tz, clock=clock)
    if isinstance(spec, HyundaiKiaSettings):
        from smartload.vehicles import hyundai_kia

        return hyundai_kia.build(vehicle, spec, tz=tz, clock=clock)
    if isinstance(spec, HttpJsonSettings):
        from smartload.vehicles import http_json

        return http_json.build(vehicle, spec, tz=tz, clock=clock, embedded_base_url=embedded_base_url)
    if isinstance(spec, MqttSettings):
        from smartload.vehicles import mqtt

        return mqtt.build(vehicle, spec, tz=tz, clock=clock)
    from smartload.vehicles import manual

    return manual.build(vehicle, spec, data_dir=settings.data_dir, clock=clock)


def resolve_providers(
    settings: Settings,
    book: EvccSocBook,
    embedded_base_url: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Resolved:
    """Each vehicle's provider, with the fallbacks made and the settings that cannot run.
    Building a provider makes no network call, so checking settings may build them too."""
    evcc = EvccProvider(book.lookup)
    resolved = Resolved()
    for vehicle, config in settings.vehicles.items():
        spec, warning = _effective(vehicle, config.provider, embedded_base_url is not None)
        if warning is not None:
            resolved.warnings.append(warning)
        try:
            resolved.providers[vehicle] = _build(vehicle, spec, settings, evcc, embedded_base_url, clock)
        except ValueError as exc:  # what a provider's build cannot run with, said in one line
            resolved.problems.append(f"vehicles.{vehicle}.provider.type: {str(exc).splitlines()[0]}")
    return resolved


def check_providers(settings: Settings) -> Resolved:
    """What `run` would make of these settings' providers (nothing is started)."""
    simulator = _SIMULATOR_FOR_CHECKS if settings.evcc.url == "embedded" else None
    return resolve_providers(settings, EvccSocBook(), simulator)


def build_providers(
    settings: Settings,
    book: EvccSocBook,
    embedded_base_url: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, VehicleProvider]:
    """One provider per configured vehicle. `embedded_base_url` resolves http_json URLs
    of the form "embedded:/cloud/zoe/soc" against the embedded simulator (without one they
    fall back to evcc's SoC, each with a warning); `clock` is the time the budgets count in
    (the simulator's, when it runs sped up). Raises SettingsError for what cannot run."""
    from loguru import logger

    resolved = resolve_providers(settings, book, embedded_base_url, clock)
    if resolved.problems:
        raise SettingsError(resolved.problems)
    for warning in resolved.warnings:
        logger.warning(warning)
    return resolved.providers
