"""The pure planner: inputs in, plan out, no I/O.

    slots = make_slots(now, tariffs.grid, tariffs.feedin, tariffs.solar, house_w)
    plan = make_plan(PlannerInput(now, slots, battery, wallboxes, cars), PlannerSettings())
    plan.current_slot().cars["ID.3"].power_w
"""

from smartload.planner.inputs import (
    BatteryInput,
    CarInput,
    EarlyDeadline,
    PlannerInput,
    PlannerSettings,
    Slot,
    WallboxInput,
)
from smartload.planner.plan import (
    BATTERY,
    CarPlan,
    CarSlot,
    Explanation,
    Plan,
    PlanSlot,
    PlanStatus,
)
from smartload.planner.slots import HouseLoad, make_slots
from smartload.planner.solve import make_plan

__all__ = [
    "BATTERY",
    "BatteryInput",
    "CarInput",
    "CarPlan",
    "CarSlot",
    "EarlyDeadline",
    "Explanation",
    "HouseLoad",
    "Plan",
    "PlanSlot",
    "PlanStatus",
    "PlannerInput",
    "PlannerSettings",
    "Slot",
    "WallboxInput",
    "make_plan",
    "make_slots",
]
