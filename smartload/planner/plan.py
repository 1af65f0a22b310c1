"""The planner's answer: per slot what the grid, the battery and every car do, and why.

Read it as plan.slots[i].cars["ID.3"].power_w or plan.cars["ID.3"].shortfall_kwh.
Powers are averages over the slot in W (the figures the energy balance holds for); SoCs
are at the slot's end. "battery" is the device key of the home battery in reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Literal, TypeVar

# optimal: proven within mip_rel_gap of a lower bound; feasible: a MILP schedule not proven
# that close (time limit, or the LP bound too weak to prove it; gap says how far from the
# bound); fallback: the LP relaxation repaired, no MILP answer in time (gap against the
# relaxation's bound when it solved); empty: no slots (no price covers now).
PlanStatus = Literal["optimal", "feasible", "fallback", "empty"]

BATTERY = "battery"


_V = TypeVar("_V")


def frozen_map(mapping: Mapping[str, _V] | None = None) -> Mapping[str, _V]:
    """A read-only copy, so a Plan can be shared between sinks without defensive copies."""
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class CarSlot:
    """A car in one slot. wallbox_id None: not charging in this slot."""

    wallbox_id: int | None
    power_w: float
    soc_pct: float | None
    added_kwh: float

    @property
    def charging(self) -> bool:
        return self.power_w > 0


@dataclass(frozen=True, slots=True)
class PlanSlot:
    start: datetime
    end: datetime
    import_eur_per_kwh: float
    export_eur_per_kwh: float
    pv_w: float
    house_w: float
    grid_import_w: float
    grid_export_w: float
    battery_charge_w: float
    battery_discharge_w: float
    battery_soc_pct: float | None
    cars: Mapping[str, CarSlot] = field(default_factory=frozen_map)
    reasons: Mapping[str, str] = field(default_factory=frozen_map)

    @property
    def duration_h(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class CarPlan:
    """final_soc_pct: at departure, or at the horizon's end when the car leaves later.
    shortfall_kwh: what the plan misses of what the car needs by then (into its battery).
    energy_charged_kwh is what the wallbox delivers, energy_added_kwh what the battery gains.
    cost_eur prices each slot's energy at the slot's marginal price: the import price when
    the site imports, else the feed-in price it forgoes."""

    name: str
    departure: datetime | None
    target_soc_pct: float | None
    final_soc_pct: float | None
    need_kwh: float
    shortfall_kwh: float
    energy_charged_kwh: float
    energy_added_kwh: float
    cost_eur: float
    reason: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """A reason for one device: for one slot (start set) or for the whole plan (start None)."""

    device: str
    start: datetime | None
    text: str


@dataclass(frozen=True)
class Plan:
    status: PlanStatus
    created_at: datetime
    solve_time_s: float
    total_time_s: float
    gap: float | None
    objective_eur: float
    cost_eur: float
    slots: tuple[PlanSlot, ...]
    cars: Mapping[str, CarPlan]
    explanations: tuple[Explanation, ...]
    # How far above its bound (EUR) the search that made this schedule left it, and when
    # that search planned (its inputs' now), carried on by the re-plans that keep it
    # (planner/warm.py); None where that search was cut short.
    search_gap_eur: float | None = None
    searched_at: datetime | None = None

    def current_slot(self, at: datetime | None = None) -> PlanSlot | None:
        """The slot that holds `at` (default: the first slot, which starts at created_at)."""
        if at is None:
            return self.slots[0] if self.slots else None
        return next((s for s in self.slots if s.contains(at)), None)

    def reasons_for(self, device: str) -> list[Explanation]:
        return [e for e in self.explanations if e.device == device]

    @property
    def horizon_end(self) -> datetime | None:
        return self.slots[-1].end if self.slots else None
