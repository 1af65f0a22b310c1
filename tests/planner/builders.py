"""Small builders for hand-checkable planner cases: one-hour slots, one 11 kW wallbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from smartload.planner import BatteryInput, CarInput, PlannerInput, Slot, WallboxInput

T0 = datetime(2024, 1, 1, tzinfo=UTC)
# 3 x 16 A x 230 V = 11,040 W at most; 3 x 6 A x 230 V = 4,140 W at least.
BOX = WallboxInput(id=1)


def hour(i: float) -> datetime:
    return T0 + timedelta(hours=i)


def hourly(prices: Sequence[float], export: float = 0.0, pv_w: Sequence[float] | None = None,
           house_w: Sequence[float] | None = None) -> tuple[Slot, ...]:
    return tuple(
        Slot(hour(i), hour(i + 1), p, export, (pv_w or [0.0] * len(prices))[i], (house_w or [0.0] * len(prices))[i])
        for i, p in enumerate(prices)
    )


def car(name: str = "A", need_kwh: float = 5.0, departure_h: float | None = 2.0, wallbox: int | None = 1,
        **kw: object) -> CarInput:
    """A 50 kWh car at 50 % that needs need_kwh (efficiency 1, so kWh from the grid = kWh added)."""
    values: dict[str, object] = {
        "name": name, "capacity_kwh": 50.0, "soc_pct": 50.0, "target_soc_pct": 50.0 + need_kwh / 50.0 * 100.0,
        "departure": None if departure_h is None else hour(departure_h), "max_charge_w": 11_040.0,
        "charge_efficiency": 1.0, "wallbox_id": wallbox,
    }
    values.update(kw)
    return CarInput(**values)  # type: ignore[arg-type]


def battery(**kw: object) -> BatteryInput:
    """10 kWh, 5 kW both ways, 90 % each way, 0.02 EUR/kWh wear, no value left at the end."""
    values: dict[str, object] = {
        "capacity_kwh": 10.0, "soc_pct": 0.0, "max_charge_w": 5000.0, "max_discharge_w": 5000.0,
        "charge_efficiency": 0.9, "discharge_efficiency": 0.9, "wear_eur_per_kwh": 0.02,
        "terminal_value_eur_per_kwh": 0.0,
    }
    values.update(kw)
    return BatteryInput(**values)  # type: ignore[arg-type]


def problem(slots: tuple[Slot, ...], cars: Sequence[CarInput] = (), bat: BatteryInput | None = None,
            boxes: Sequence[WallboxInput] = (BOX,)) -> PlannerInput:
    return PlannerInput(slots[0].start, slots, bat, tuple(boxes), tuple(cars))
