"""Cars not yet home in the plan: a car on the road becomes a planner car that can charge
only from its expected arrival on, at the wallboxes it may use, with the SoC it usually
comes home with and its shortfall weighted by how likely it comes.

The plan then keeps cheap and PV slots and the home battery for it instead of learning of
it at the plug-in. Its window never starts within the slot the plan begins with: what is
acted on now (the current slot) never charges a car that is not plugged in, and the
re-plan at its real plug-in (or when a reading shows it back) replaces the expectation.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from smartload.planner.inputs import CarInput
from smartload.planner.slots import SLOT, quarter_hour_floor


def expected_car(car: CarInput, now: datetime, arrival: datetime, soc_pct: float | None,
                 probability: float) -> CarInput:
    """`car` (not plugged in) as a car expected home at `arrival` with `soc_pct` (None:
    the SoC it has), available no sooner than the next slot after now."""
    if car.wallbox_id is not None:
        raise ValueError(f"car {car.name} is plugged in: it is here, not expected")
    first = max(arrival, quarter_hour_floor(now) + SLOT)
    available = first if car.available_from is None else max(first, car.available_from)
    if soc_pct is None or car.soc_pct is None:
        soc = car.soc_pct if soc_pct is None else soc_pct
    else:
        soc = min(car.soc_pct, soc_pct)  # it does not come home fuller than it is
    return replace(car, available_from=available, soc_pct=soc,
                   energy_needed_kwh=None if soc is not None else car.energy_needed_kwh,
                   arrival_probability=max(0.0, min(1.0, probability)), charging_now=None)
