"""Small builders of domain values for stream tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartload.domain import LoadpointState, PollError, SiteState, VehicleInfo

T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def lp(
    lp_id: int = 1,
    vehicle: str | None = None,
    connected: bool = False,
    soc: float | None = None,
    detecting: bool = False,
) -> LoadpointState:
    return LoadpointState(
        id=lp_id,
        connected=connected,
        vehicle_name=vehicle if vehicle is not None else ("" if connected else None),
        vehicle_detection_active=detecting,
        vehicle_soc_pct=soc,
    )


def state(seconds: float, *loadpoints: LoadpointState, vehicles: tuple[str, ...] = ("a", "b")) -> SiteState:
    return SiteState(
        at=at(seconds),
        loadpoints=loadpoints or (lp(1),),
        vehicles={v: VehicleInfo(v) for v in vehicles},
    )


def failure(seconds: float, kind: str = "connect") -> PollError:
    return PollError(at(seconds), kind, "connection refused")  # type: ignore[arg-type]
