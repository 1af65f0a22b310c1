"""What evcc should be set to for the current plan slot: one value per evcc setting.

Keys name the setting and its owner's scope: "lp1.mode", "lp1.maxcurrent",
"lp1.limitsoc", "lp1.vehicle", "batterymode". Values are the strings evcc's API takes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from smartload.domain import LoadpointState, SiteState
from smartload.requests import ChargeRequest

if TYPE_CHECKING:
    from smartload.planner import CarSlot, PlanSlot

VOLTAGE_V = 230.0
BATTERY_MARGIN_W = 50.0


@dataclass(frozen=True, slots=True)
class Intent:
    """A desired value with the reason a person reads in the log. vehicle: the evcc
    vehicle name ("" a guest) shown at the loadpoint when the intent was planned; the
    actuator applies it only while evcc still shows that vehicle there (None: anywhere)."""

    value: str
    reason: str
    vehicle: str | None = None


def _current_for(power_w: float, lp: LoadpointState, high_a: float) -> int:
    # Bounded by the wallbox's own maximum, not evcc's maxCurrent: that may be a partial
    # current smartload wrote itself, and must not cap the next, higher one.
    low = lp.min_current_a or 6.0
    return int(min(high_a, max(low, math.ceil(power_w / (lp.phases * VOLTAGE_V) - 1e-9))))


def loadpoint_intents(
    lp: LoadpointState,
    vehicle: str,
    slot: PlanSlot | None,
    request: ChargeRequest | None,
    boosted: bool,
    configured_max_a: float | None,
    stand_in_for: tuple[str, CarSlot] | None = None,
    unannounced: bool = False,
) -> dict[str, Intent]:
    """Mode, current and limit for a loadpoint with one of our cars plugged in.

    unannounced: the car has no request yet and the site charges such cars at once
    (planning.charge_until_announced): its driver may leave before saying when.

    stand_in_for: a car the slot gives this wallbox to that is not plugged in. Until it
    is, the car that is charges in its place (when it has a request): the slot's energy
    was judged worth buying, and an idle wallbox waiting for a car still on the road
    costs the plugged car time it may need before its own departure."""
    key = f"lp{lp.id}"
    intents: dict[str, Intent] = {}
    full_a = int(configured_max_a or lp.max_current_a or 16)
    car = slot.cars.get(vehicle) if slot else None
    if boosted:
        intents[f"{key}.mode"] = Intent("now", f"boost for {vehicle}")
        intents[f"{key}.maxcurrent"] = Intent(str(full_a), "boost: full power")
    elif unannounced and request is None:
        intents[f"{key}.mode"] = Intent("now", f"{vehicle}: no departure given yet, charging at once until one is")
        intents[f"{key}.maxcurrent"] = Intent(str(full_a), "full power until a departure is given")
    elif car is not None and car.charging and car.wallbox_id == lp.id:
        amps = _current_for(car.power_w, lp, full_a)
        reason = slot.reasons.get(vehicle, "planned charge") if slot else "planned charge"
        intents[f"{key}.mode"] = Intent("now", f"{vehicle}: {reason}")
        intents[f"{key}.maxcurrent"] = Intent(str(amps), f"{car.power_w:.0f} W planned")
    elif stand_in_for is not None and request is not None:
        other, planned = stand_in_for
        intents[f"{key}.mode"] = Intent("now", f"{vehicle}: charging until {other}, planned here now, is plugged in")
        intents[f"{key}.maxcurrent"] = Intent(str(_current_for(planned.power_w, lp, full_a)),
                                              f"{planned.power_w:.0f} W planned for {other}")
    else:
        reason = slot.reasons.get(vehicle, "no charge planned now") if slot else "no plan"
        intents[f"{key}.mode"] = Intent("off", f"{vehicle}: {reason}")
    if request is not None and request.target_soc_pct is not None:
        intents[f"{key}.limitsoc"] = Intent(str(round(request.target_soc_pct)), f"target of {vehicle}")
    return intents


def _absent_car_at(slot: PlanSlot | None, lp_id: int, plugged: Mapping[str, int]) -> tuple[str, CarSlot] | None:
    """The car the slot charges at this wallbox that is not plugged in anywhere."""
    if slot is None:
        return None
    for name, car in slot.cars.items():
        if car.charging and car.wallbox_id == lp_id and name not in plugged:
            return name, car
    return None


def battery_controlled(state: SiteState) -> bool:
    """Can smartload steer the home battery through evcc? Not when evcc says it cannot
    control it (battery.devices[].controllable false, since 0.31x): then evcc answers 200
    to a battery mode and applies none, and the battery runs on its own."""
    battery = state.battery
    return battery is not None and battery.soc_pct is not None and battery.controllable is not False


def battery_intent(slot: PlanSlot | None) -> Intent:
    """charge: the plan fills the battery beyond the PV surplus (from the grid); hold: the
    site imports while the plan keeps the battery for later; normal otherwise."""
    if slot is None:
        return Intent("normal", "no plan")
    cars_w = sum(c.power_w for c in slot.cars.values())
    surplus_w = slot.pv_w - slot.house_w - cars_w
    if slot.battery_charge_w > max(0.0, surplus_w) + BATTERY_MARGIN_W:
        return Intent("charge", slot.reasons.get("battery", "charging from the grid while it is cheap"))
    importing = slot.house_w + cars_w - slot.pv_w > BATTERY_MARGIN_W
    if importing and slot.battery_discharge_w < BATTERY_MARGIN_W:
        return Intent("hold", slot.reasons.get("battery", "battery kept for later"))
    return Intent("normal", slot.reasons.get("battery", "battery runs on its own"))


def desired_settings(
    state: SiteState,
    slot: PlanSlot | None,
    requests: Mapping[str, ChargeRequest],
    plugged: Mapping[str, int],
    expected: Mapping[int, str],
    evcc_names: Mapping[str, str],
    boosts: frozenset[str],
    configured_max_a: Mapping[int, float],
    battery: bool,
    unannounced: frozenset[str] = frozenset(),
) -> dict[str, Intent]:
    """Every setting smartload wants now. Loadpoints without one of our cars are left
    alone; a connected car evcc cannot identify is assigned when the sequence expects
    exactly that car there (`expected`: wallbox -> vehicle)."""
    intents: dict[str, Intent] = {}
    by_lp = {lp_id: v for v, lp_id in plugged.items()}
    for lp in state.loadpoints:
        if lp.disabled or not lp.connected or lp.is_device:  # a heat pump is evcc's alone
            continue
        vehicle = by_lp.get(lp.id)
        if vehicle is None:
            wanted = expected.get(lp.id)
            if wanted is not None and lp.is_guest:
                intents[f"lp{lp.id}.vehicle"] = Intent(evcc_names.get(wanted, wanted),
                                                       f"evcc cannot identify the car; the sequence expects {wanted}",
                                                       "")
            continue
        shown = lp.vehicle_name or ""
        for key, intent in loadpoint_intents(lp, vehicle, slot, requests.get(vehicle), vehicle in boosts,
                                             configured_max_a.get(lp.id), _absent_car_at(slot, lp.id, plugged),
                                             vehicle in unannounced).items():
            intents[key] = replace(intent, vehicle=shown)
    if battery and battery_controlled(state):
        intents["batterymode"] = battery_intent(slot)
    return intents
