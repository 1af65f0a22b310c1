"""Value types shared by every layer.

Units are in the names (power_w, energy_kwh, soc_pct). Times are timezone-aware UTC.
Everything here is immutable, so one value can travel through many stream branches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

_EMPTY: Mapping[str, VehicleInfo] = MappingProxyType({})  # SiteState.vehicles when evcc lists none


class ChargeMode(StrEnum):
    OFF = "off"
    PV = "pv"
    MINPV = "minpv"
    NOW = "now"
    # evcc after PR #32490 renames pv to smart; we keep it distinct so writes can echo it.
    SMART = "smart"


@dataclass(frozen=True, slots=True)
class Rate:
    """One tariff slot. value: currency/kWh for prices, W for the solar forecast."""

    start: datetime
    end: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Tariffs:
    grid: tuple[Rate, ...] = ()
    feedin: tuple[Rate, ...] = ()
    solar: tuple[Rate, ...] = ()

    def is_empty(self) -> bool:
        return not (self.grid or self.feedin or self.solar)


@dataclass(frozen=True, slots=True)
class BatteryState:
    """evcc convention: power_w > 0 discharges the battery, < 0 charges it."""

    power_w: float | None = None
    soc_pct: float | None = None
    capacity_kwh: float | None = None
    mode: str | None = None
    discharge_control: bool | None = None
    grid_charge_limit: float | None = None
    buffer_soc_pct: float | None = None
    buffer_start_soc_pct: float | None = None
    priority_soc_pct: float | None = None
    # False if any battery evcc lists says it cannot be controlled (0.31x devices[]).
    controllable: bool | None = None


@dataclass(frozen=True, slots=True)
class LoadpointState:
    """One evcc loadpoint. id is evcc's 1-based loadpoint id used in write URLs.

    A loadpoint may be a device, not a wallbox: a heat pump or heating rod (evcc's
    chargerFeatureHeating / chargerFeatureIntegratedDevice). A device has no vehicle: its
    vehicle and SoC fields are None, and a heating device's temperatures are in
    temperature_c and target_temperature_c. Consumers asking is_guest or
    identified_vehicle never see a device as a car.
    """

    id: int
    title: str = ""
    mode: ChargeMode | None = None
    connected: bool = False
    charging: bool = False
    enabled: bool = False
    charge_power_w: float | None = None
    # "" is evcc's guest vehicle; None means the key was absent or null.
    vehicle_name: str | None = None
    vehicle_title: str | None = None
    vehicle_detection_active: bool = False
    vehicle_soc_pct: float | None = None
    limit_soc_pct: float | None = None
    effective_limit_soc_pct: float | None = None
    min_current_a: float | None = None
    max_current_a: float | None = None
    phases_configured: int | None = None
    phases_active: int | None = None
    smart_cost_limit: float | None = None
    session_energy_wh: float | None = None
    disabled: bool = False
    heating: bool = False
    integrated_device: bool = False
    temperature_c: float | None = None
    target_temperature_c: float | None = None

    @property
    def is_device(self) -> bool:
        """A heat pump, heating rod or other device evcc drives: never a car."""
        return self.heating or self.integrated_device

    @property
    def device_kind(self) -> str | None:
        """"heating" (a heat pump or heating rod), "integrated" (another device evcc
        drives), or None for a wallbox."""
        if self.heating:
            return "heating"
        return "integrated" if self.integrated_device else None

    @property
    def is_guest(self) -> bool:
        return (self.connected and self.vehicle_name == "" and not self.vehicle_detection_active
                and not self.is_device)

    @property
    def identified_vehicle(self) -> str | None:
        """The evcc vehicle name once identification is over, else None (always for a device)."""
        if self.vehicle_detection_active or not self.vehicle_name or self.is_device:
            return None
        return self.vehicle_name

    @property
    def phases(self) -> int:
        """The phases a car charges on here: evcc's active phases while the loadpoint
        charges, the configured ones otherwise (each standing in for the other when evcc
        shows no 1, 2 or 3: configured 0 is automatic switching), else 3."""
        preferred = (self.phases_active, self.phases_configured)
        for phases in preferred if self.charging else preferred[::-1]:
            if phases in (1, 2, 3):
                return phases
        return 3


def new_session(before: LoadpointState | None, after: LoadpointState) -> bool:
    """Did a connected loadpoint get a new charging session between two polls? At a
    shared wallbox one car can be unplugged and the next plugged in between two polls: a
    vehicle name giving way to another (or to a new identification) is such a swap, and
    the session's energy falling is the same car plugged in again. A name appearing is
    identification ending, not a new session."""
    if before is None:
        return False
    if before.vehicle_name and (after.vehicle_name or "") != before.vehicle_name:
        return True
    energy_before, energy = before.session_energy_wh, after.session_energy_wh
    return energy_before is not None and energy is not None and energy < energy_before - 1.0


def plugged_vehicles(state: SiteState | None, names: Mapping[str, str]) -> dict[str, int]:
    """Vehicle id (names maps evcc's names to smartload's ids) -> loadpoint id, for the
    cars evcc shows identified at a loadpoint."""
    if state is None:
        return {}
    out = {}
    for lp in state.loadpoints:
        name = lp.identified_vehicle if lp.connected else None
        if name is not None:
            out[names.get(name, name)] = lp.id
    return out


@dataclass(frozen=True, slots=True)
class VehicleInfo:
    """An entry of evcc's vehicles map. evcc has no SoC here, only on a loadpoint."""

    name: str
    title: str = ""
    capacity_kwh: float | None = None
    min_soc_pct: float | None = None
    limit_soc_pct: float | None = None
    plan_soc_pct: float | None = None
    plan_time: datetime | None = None
    # evcc's template features, e.g. "Offline" for a car whose template reads no SoC.
    features: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ValueProblem:
    """A value evcc sent that cannot be true (a SoC of 140 %, a current of -16 A), which
    the parser dropped to unknown. path is where it was in evcc's body, in jq syntax with
    0-based indexes (`loadpoints[1].maxCurrent`); value is its shortened text."""

    path: str
    value: str


@dataclass(frozen=True, slots=True)
class SiteState:
    """A normalised /api/state body, stamped with the time it was received."""

    at: datetime
    version: str | None = None
    currency: str | None = None
    grid_power_w: float | None = None
    pv_power_w: float | None = None
    home_power_w: float | None = None
    battery: BatteryState | None = None
    tariff_grid: float | None = None
    tariff_feedin: float | None = None
    forecast: Tariffs = field(default_factory=Tariffs)
    loadpoints: tuple[LoadpointState, ...] = ()
    vehicles: Mapping[str, VehicleInfo] = field(default_factory=lambda: _EMPTY)
    # evcc's site switch "adjust the solar forecast to real production" (solarAdjusted);
    # None: this evcc does not say.
    solar_adjusted: bool | None = None
    # Impossible values the parser dropped (evcc/validate.py): site, battery, loadpoints,
    # vehicles, forecast.
    problems: tuple[ValueProblem, ...] = ()


PollErrorKind = Literal["connect", "timeout", "http", "auth", "parse"]


@dataclass(frozen=True, slots=True)
class PollError:
    """A failed poll: a health event that flows through the stream instead of an exception."""

    at: datetime
    kind: PollErrorKind
    message: str


Poll = SiteState | PollError


EdgeReason = Literal["plugged", "startup", "moved", "manual", "unplugged"]
# ConnectionEdge.loadpoint_id of a refresh request for a car that is at no loadpoint.
NO_LOADPOINT = 0


@dataclass(frozen=True, slots=True)
class ConnectionEdge:
    """A vehicle became connected at a loadpoint (False→True).

    plugged_at is the first poll that showed the loadpoint connected; at is the poll that
    attributed the car to it (later than plugged_at while evcc was still identifying it).
    """

    vehicle: str
    loadpoint_id: int
    at: datetime
    plugged_at: datetime
    reason: EdgeReason


@dataclass(frozen=True, slots=True)
class SocReading:
    """A state of charge with its provenance. measured_at is when the car measured it.

    measured_at_known is False for a value evcc showed without our seeing it change (the
    car's first sight): then measured_at is only when we first saw it, an upper bound."""

    vehicle: str
    soc_pct: float
    source: str
    measured_at: datetime
    received_at: datetime
    measured_at_known: bool = True

    def age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.measured_at).total_seconds())


# ok/failed/unsupported: the cloud was asked. budget_*/backoff: refused by the gate.
# fresh/throttled: skipped (a reading measured since the plug-in; the lane asked within its
# window). cancelled: overtaken by events (a planned retry when the car left, a plug-in
# when a newer one came first).
RefreshStatus = Literal["ok", "failed", "unsupported", "budget_exhausted", "budget_reserved", "backoff",
                        "fresh", "throttled", "cancelled"]


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    """What one refresh request of a vehicle's SoC came to: exactly one per request, plus
    one per retry (retry > 0) of a plug-in refresh. reason says why, for people to read;
    edge_reason is the request's own reason (plugged, moved, startup, unplugged, manual)."""

    vehicle: str
    edge_at: datetime
    requested_at: datetime
    status: RefreshStatus
    finished_at: datetime | None = None
    reading: SocReading | None = None
    error: str | None = None
    reason: str = ""
    edge_reason: EdgeReason | None = None
    retry: int = 0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a planner decides from, handed to the sinks on each tick."""

    at: datetime
    state: SiteState | None
    socs: Mapping[str, SocReading]
    tariffs: Tariffs
    reason: str = "tick"
    last_error: PollError | None = None


@dataclass(frozen=True, slots=True)
class RawPoll:
    """One poll as it came off the wire, before parsing: what the recorder keeps."""

    at: datetime
    body: bytes | None = None
    error: PollError | None = None
