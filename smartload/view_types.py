"""The shapes of the JSON views (views.py) and the API's answers, as TypedDicts.

mypy checks every view against its type, and the OpenAPI document's response schemas are
generated from the same types (web/schemas.py), so the document cannot drift from what
the API sends. Each forbids keys it does not name: a view that grows a key must say so here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, with_config

# pydantic reads TypedDicts from typing_extensions on Python < 3.12.
from typing_extensions import TypedDict

from smartload.habits import HabitSummary
from smartload.store.rows import EventRow

_CLOSED = ConfigDict(extra="forbid")
Owner = Literal["smartload", "smartload (pending)", "person", "evcc"]
PlanStatus = Literal["optimal", "feasible", "fallback", "empty"]
# An event from the live log has the shape of one read back from the store.
EventView = EventRow


@with_config(_CLOSED)
class BatteryView(TypedDict):
    soc_pct: float | None
    power_w: float | None
    mode: str | None
    capacity_kwh: float | None


@with_config(_CLOSED)
class LoadpointView(TypedDict):
    id: int
    title: str
    # The one name the dashboard, the handoff and the settings table use for this wallbox.
    name: str
    mode: str | None
    connected: bool
    charging: bool
    charge_power_w: float | None
    vehicle: str | None
    vehicle_soc_pct: float | None
    limit_soc_pct: float | None
    max_current_a: float | None


@with_config(_CLOSED)
class SiteView(TypedDict):
    at: str
    version: str | None
    currency: str | None
    grid_power_w: float | None
    pv_power_w: float | None
    home_power_w: float | None
    tariff_grid: float | None
    tariff_feedin: float | None
    battery: BatteryView | None
    loadpoints: list[LoadpointView]


@with_config(_CLOSED)
class SocView(TypedDict):
    soc_pct: float
    source: str
    measured_at: str
    measured_at_known: bool
    age_s: int


@with_config(_CLOSED)
class RequestView(TypedDict):
    id: int | None
    target_soc_pct: float | None
    energy_kwh: float | None
    departure: str
    priority: int
    source: str


@with_config(_CLOSED)
class CarLoadpointView(TypedDict):
    id: int
    title: str
    name: str
    charging: bool
    charge_power_w: float | None


@with_config(_CLOSED)
class CarPlanView(TypedDict):
    target_soc_pct: float | None
    projected_soc_pct: float | None
    # The SoC the plan started from when the car's was unknown (planning.unknown_soc_pct),
    # or None: the projection then rests on that assumption, not on a reading.
    assumed_soc_pct: float | None
    departure: str | None
    shortfall_kwh: float
    energy_kwh: float
    cost_eur: float
    reason: str


@with_config(_CLOSED)
class ExpectedArrivalView(TypedDict):
    at: str
    soc_pct: float | None
    probability: float


@with_config(_CLOSED)
class HabitsView(HabitSummary):
    """What is learned of the car's trips (habits.py), and when it is expected home."""

    text: str | None
    expected: ExpectedArrivalView | None


@with_config(_CLOSED)
class VehicleView(TypedDict):
    id: str
    title: str
    capacity_kwh: float
    # True/False as evcc last said; None while evcc is unreachable (or not yet heard from).
    plugged_in: bool | None
    soc: SocView | None
    # Where evcc last showed the car (kept, stale, while evcc is unreachable).
    loadpoint: CarLoadpointView | None
    request: RequestView | None
    plan: CarPlanView | None
    boost_until: str | None
    habits: HabitsView | None


@with_config(_CLOSED)
class SlotCarView(TypedDict):
    power_w: int
    soc_pct: float | None
    wallbox_id: int | None


@with_config(_CLOSED)
class SlotView(TypedDict):
    start: str
    end: str
    import_eur_per_kwh: float
    export_eur_per_kwh: float
    pv_w: int
    house_w: int
    grid_import_w: int
    grid_export_w: int
    battery_charge_w: int
    battery_discharge_w: int
    battery_soc_pct: float | None
    cars: dict[str, SlotCarView]
    reasons: dict[str, str]


@with_config(_CLOSED)
class ExplanationView(TypedDict):
    device: str
    start: str | None
    text: str


@with_config(_CLOSED)
class PlanView(TypedDict):
    status: PlanStatus
    # What the status means for this plan, in a sentence (see views.status_text).
    status_text: str
    created_at: str
    solve_time_s: float
    gap: float | None
    # The gap in EUR: how much any plan could still save at most, by the best bound.
    gap_eur: float | None
    cost_eur: float
    horizon_end: str | None
    slots: list[SlotView]
    explanations: list[ExplanationView]


@with_config(_CLOSED)
class HandoffView(TypedDict):
    vehicle: str
    vehicle_title: str
    wallbox_id: int
    wallbox: str
    by: str
    # The car to unplug first: a configured one by its id, else what evcc calls the car
    # there; None when the wallbox is free.
    replaces: str | None
    replaces_title: str | None
    message: str


@with_config(_CLOSED)
class ControlView(TypedDict):
    key: str
    loadpoint: int | None
    # The wallbox's name (LoadpointView.name), or None for a site setting.
    wallbox: str | None
    setting: str
    observed: str | None
    desired: str | None
    reason: str | None
    owner: Owner
    paused_since: str | None


@with_config(_CLOSED)
class ErrorView(TypedDict):
    at: str
    kind: str
    message: str


@with_config(_CLOSED)
class SimulatorView(TypedDict):
    # Simulated seconds per wall-clock second.
    speed: float


@with_config(_CLOSED)
class HealthView(TypedDict):
    now: str
    evcc_reachable: bool
    last_poll_at: str | None
    last_tick_at: str | None
    last_plan_at: str | None
    last_plan_status: PlanStatus | None
    last_solve_s: float | None
    last_error: ErrorView | None
    plan_stale: str | None
    planner_busy_s: float | None
    left_out: dict[str, str]
    mode: Literal["act", "observe"]
    # Set when evcc is the embedded simulator: the dashboard then says so.
    simulator: SimulatorView | None


@with_config(_CLOSED)
class SolarScaleView(TypedDict):
    """How the plan corrects the solar forecast: the rest of today times `day`, the
    quarter-hour now times `now` (fading to `day` over planning.solar_blend)."""
    day: float
    now: float
    forecast_today_kwh: float
    produced_today_kwh: float


@with_config(_CLOSED)
class LiveUpdate(TypedDict):
    site: SiteView | None
    vehicles: list[VehicleView]
    handoff: HandoffView | None
    evcc_settings: list[ControlView]
    health: HealthView
    # None while the PV forecast is planned as it came (planning.solar_adjusted).
    solar_scale: SolarScaleView | None


@with_config(_CLOSED)
class DashboardView(LiveUpdate):
    plan: PlanView | None
    timezone: str
    events: list[EventView]


# -- the API's other answers --------------------------------------------------------


@with_config(_CLOSED)
class Error(TypedDict):
    """Every 4xx: "<field>: <why>", and the field it names."""

    error: str
    field: str


@with_config(_CLOSED)
class RateView(TypedDict):
    start: str
    end: str
    value: float


@with_config(_CLOSED)
class TariffsView(TypedDict):
    grid: list[RateView]
    feedin: list[RateView]
    solar: list[RateView]  # as forecast; the plan's slots carry the corrected PV
    solar_scale: SolarScaleView | None


@with_config(_CLOSED)
class EvccSettingsView(TypedDict):
    settings: list[ControlView]
    paused_loadpoints: list[int]


@with_config(_CLOSED)
class CarFiguresView(TypedDict):
    kwh: float
    eur: float


@with_config(_CLOSED)
class FiguresView(TypedDict):
    cost_eur: float
    import_kwh: float
    import_eur: float
    export_kwh: float
    export_eur: float
    cars: dict[str, CarFiguresView]


@with_config(_CLOSED)
class DayView(TypedDict):
    date: str
    actual: FiguresView
    planned: FiguresView


@with_config(_CLOSED)
class HistoryView(TypedDict):
    method: str
    days: list[DayView]


@with_config(_CLOSED)
class CancelledView(TypedDict):
    vehicle: str
    cancelled: bool


@with_config(_CLOSED)
class BoostedView(TypedDict):
    vehicle: str
    until: str


@with_config(_CLOSED)
class SocEnteredView(TypedDict):
    vehicle: str
    soc_pct: float
    source: str
    measured_at: str


@with_config(_CLOSED)
class RefreshAskedView(TypedDict):
    vehicle: str
    requested_at: str
