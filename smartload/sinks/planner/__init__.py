"""The pure planner: inputs in, plan out, no I/O.

    slots = make_slots(now, tariffs.grid, tariffs.feedin, tariffs.solar, house_w)
    plan = make_plan(PlannerInput(now, slots, battery, wallboxes, cars), PlannerSettings())
    plan.current_slot().cars["ID.3"].power_w
"""

from smartload.sinks.planner.inputs import (
    BatteryInput,
    CarInput,
    PlannerInput,
    PlannerSettings,
    Slot,
    WallboxInput,
)
from smartload.sinks.planner.plan import (
    BATTERY,
    CarPlan,
    CarSlot,
    Explanation,
    Plan,
    PlanSlot,
    PlanStatus,
)
from smartload.sinks.planner.slots import HouseLoad, make_slots
from smartload.sinks.planner.solve import make_plan

__all__ = [
    "BATTERY",
    "BatteryInput",
    "CarInput",
    "CarPlan",
    "CarSlot",
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
