"""What the planner decides from: slots, the home battery, wallboxes, cars and solver settings.

Everything is a frozen dataclass with the unit in each name. Times are timezone-aware UTC.
Inconsistent input (a car plugged at an unknown wallbox, a slot that ends before it starts)
is a caller's bug and raises ValueError at construction; anything physically awkward
(a car that cannot reach its target, a battery below its reserve) is planned around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Slot:
    """One planning slot. Prices in EUR/kWh, powers as the slot's average in W."""

    start: datetime
    end: datetime
    import_eur_per_kwh: float
    export_eur_per_kwh: float
    pv_w: float = 0.0
    house_w: float = 0.0

    def __post_init__(self) -> None:
        _require_aware("Slot.start", self.start)
        _require_aware("Slot.end", self.end)
        if self.end <= self.start:
            raise ValueError(f"slot ends before it starts: {self.start} .. {self.end}")

    @property
    def duration_h(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0


@dataclass(frozen=True, slots=True)
class BatteryInput:
    """The home battery. min_soc_pct is the hard floor; the planner never plans below
    max(min_soc_pct, reserve_soc_pct), the reserve being what the owner keeps for outages.
    wear_eur_per_kwh counts on each kWh charged and each kWh discharged (AC side); None takes
    PlannerSettings.battery_wear_eur_per_kwh. terminal_value_eur_per_kwh values each kWh
    stored at the horizon's end; None derives it from the horizon's prices.
    surplus_charges_first models the inverter's rule that PV surplus charges the battery
    before any goes out (see model.add_surplus_charges_first): exact, but two binaries per
    sunny slot, so the what-if's optimum uses it and live plans, whose site applies the
    rule anyway, do without."""

    capacity_kwh: float
    soc_pct: float
    max_charge_w: float
    max_discharge_w: float
    min_soc_pct: float = 0.0
    max_soc_pct: float = 100.0
    reserve_soc_pct: float = 0.0
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    wear_eur_per_kwh: float | None = None
    terminal_value_eur_per_kwh: float | None = None
    allow_grid_charge: bool = True
    surplus_charges_first: bool = False

    def __post_init__(self) -> None:
        if self.capacity_kwh <= 0:
            raise ValueError("battery capacity_kwh must be positive")
        if self.max_charge_w < 0 or self.max_discharge_w < 0:
            raise ValueError("battery power limits must not be negative")
        if not (0 < self.charge_efficiency <= 1 and 0 < self.discharge_efficiency <= 1):
            raise ValueError("battery efficiencies must be in (0, 1]")
        if not 0 <= self.min_soc_pct <= self.max_soc_pct <= 100:
            raise ValueError("battery needs 0 <= min_soc_pct <= max_soc_pct <= 100")


@dataclass(frozen=True, slots=True)
class WallboxInput:
    """A wallbox (an evcc loadpoint; id is evcc's loadpoint id)."""

    id: int
    phases: int = 3
    max_current_a: float = 16.0
    min_current_a: float = 6.0
    voltage_v: float = 230.0

    def __post_init__(self) -> None:
        if self.phases not in (1, 2, 3):
            raise ValueError(f"wallbox {self.id}: phases must be 1, 2 or 3")
        if not 0 <= self.min_current_a <= self.max_current_a:
            raise ValueError(f"wallbox {self.id}: needs 0 <= min_current_a <= max_current_a")

    @property
    def min_power_w(self) -> float:
        return self.min_current_a * self.phases * self.voltage_v

    @property
    def max_power_w(self) -> float:
        return self.max_current_a * self.phases * self.voltage_v


@dataclass(frozen=True, slots=True)
class EarlyDeadline:
    """A time the driver may leave before the departure given: each kWh into the car's
    battery that it lacks of energy_kwh at `at` costs penalty_eur_per_kwh (what such a
    kWh is worth, times the chance the driver leaves about then). The planner then
    front-loads what the chance of an early departure puts at risk, no more than pays."""

    at: datetime
    energy_kwh: float
    penalty_eur_per_kwh: float

    def __post_init__(self) -> None:
        _require_aware("EarlyDeadline.at", self.at)
        if self.energy_kwh < 0 or self.penalty_eur_per_kwh < 0:
            raise ValueError("an early deadline needs energy_kwh >= 0 and penalty_eur_per_kwh >= 0")


@dataclass(frozen=True, slots=True)
class CarInput:
    """A car with a charge request.

    Give soc_pct (with target_soc_pct), or for a car without SoC energy_needed_kwh (energy
    into the car's battery). wallbox_id is where the car is plugged now (None: nowhere).
    allowed_wallboxes are the other wallboxes the sequence may move it to, usable from
    available_from (None: from now). departure None means no deadline: nothing is required
    and the plan charges only when it is cheap. priority (>= 0) weights the shortfall
    penalty by 1 + priority, so a higher-priority car is served first when not all can be.
    arrival_probability: None for a car that is here; for a car still on the road that
    is expected home (planner/expected.py) how likely it comes, which weights its shortfall.
    """

    name: str
    capacity_kwh: float
    target_soc_pct: float = 100.0
    soc_pct: float | None = None
    energy_needed_kwh: float | None = None
    departure: datetime | None = None
    priority: int = 0
    max_charge_w: float = 11_040.0
    charge_efficiency: float = 0.9
    wallbox_id: int | None = None
    allowed_wallboxes: tuple[int, ...] = ()
    available_from: datetime | None = None
    # Whether the car charges now (the action in force at its wallbox; None: unknown). With
    # PlannerSettings.switch_penalty_eur, going on charging then starts no new block.
    charging_now: bool | None = None
    # Soft deadlines before the departure for drivers who may leave early (EarlyDeadline).
    early_deadlines: tuple[EarlyDeadline, ...] = ()
    arrival_probability: float | None = None

    def __post_init__(self) -> None:
        _require_aware(f"car {self.name}: departure", self.departure)
        _require_aware(f"car {self.name}: available_from", self.available_from)
        if self.capacity_kwh <= 0:
            raise ValueError(f"car {self.name}: capacity_kwh must be positive")
        if self.soc_pct is None and self.energy_needed_kwh is None:
            raise ValueError(f"car {self.name}: give soc_pct or energy_needed_kwh")
        if not 0 < self.charge_efficiency <= 1:
            raise ValueError(f"car {self.name}: charge_efficiency must be in (0, 1]")
        if self.priority < 0:
            raise ValueError(f"car {self.name}: priority must be >= 0")
        if self.arrival_probability is not None and not 0 <= self.arrival_probability <= 1:
            raise ValueError(f"car {self.name}: arrival_probability must be in [0, 1]")

    @property
    def need_kwh(self) -> float:
        """Energy still to add to the car's battery to reach the target."""
        if self.soc_pct is not None:
            return max(0.0, (self.target_soc_pct - self.soc_pct) / 100.0 * self.capacity_kwh)
        return max(0.0, self.energy_needed_kwh or 0.0)

    @property
    def wallbox_ids(self) -> tuple[int, ...]:
        """Every wallbox the car may charge at: where it is plugged first, then the others."""
        ids = () if self.wallbox_id is None else (self.wallbox_id,)
        return ids + tuple(w for w in self.allowed_wallboxes if w != self.wallbox_id)


@dataclass(frozen=True, slots=True)
class PlannerSettings:
    """Solver and objective settings. Penalties and prices in EUR, powers in W.

    time_limit_s bounds the whole solve (relaxation, MILPs, polish); mip_rel_gap is the
    relative gap to a proven lower bound at which a plan counts as optimal.

    shortfall_penalty_eur_per_kwh must exceed any price so that targets win over cost;
    grid_overload_penalty_eur_per_kwh (import above grid_import_limit_w, which only an
    uncontrollable house load can cause) exceeds it again. semi_continuous=False lets cars
    charge below the wallbox minimum (for tests of the relaxation and for chargers that
    modulate down to zero). mode="relaxation" skips the MILP: LP relaxation, then repair.
    lp_guided (default) first solves the MILP in the LP relaxation's neighbourhood, which is
    an order of magnitude faster; False goes straight to the full MILP.
    terminal_price_quantile picks the price quantile of the horizon that values energy left
    in the battery, and energy put into a car that leaves after the known prices;
    terminal_value_eur_per_kwh, when set, is that value itself (the what-if optimum values
    what it leaves as the report does). expected_end_value (without a terminal value) values
    the energy left at the end by what it saves on the expected day after the horizon
    (planner/terminal.py), the quantile only for times of day the horizon does not reach.
    switch_penalty_eur is hysteresis: the cost of each charging block a car starts,
    counting from its action in force (CarInput.charging_now).
    timezone is used only to write explanations.
    """

    time_limit_s: float = 2.0
    mip_rel_gap: float = 0.005
    shortfall_penalty_eur_per_kwh: float = 10.0
    grid_overload_penalty_eur_per_kwh: float = 100.0
    swap_penalty_eur: float = 0.10
    grid_import_limit_w: float | None = None
    battery_wear_eur_per_kwh: float = 0.02
    semi_continuous: bool = True
    mode: str = "milp"
    lp_guided: bool = True
    terminal_price_quantile: float = 0.25
    terminal_value_eur_per_kwh: float | None = None
    expected_end_value: bool = False
    tie_break_eur_per_kwh: float = 1e-6
    # Cost of each charging block a car starts (the slot before the plan: charging_now), so
    # a slot of near-equal price does not toggle the wallbox at every re-plan.
    switch_penalty_eur: float = 0.0
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.mode not in ("milp", "relaxation"):
            raise ValueError("mode must be 'milp' or 'relaxation'")
        if self.time_limit_s <= 0:
            raise ValueError("time_limit_s must be positive")
        if not 0 <= self.terminal_price_quantile <= 1:
            raise ValueError("terminal_price_quantile must be in [0, 1]")


@dataclass(frozen=True, slots=True)
class PlannerInput:
    """One planning problem: the slots from now to the horizon's end and the devices."""

    now: datetime
    slots: tuple[Slot, ...]
    battery: BatteryInput | None = None
    wallboxes: tuple[WallboxInput, ...] = ()
    cars: tuple[CarInput, ...] = field(default=())

    def __post_init__(self) -> None:
        _require_aware("PlannerInput.now", self.now)
        for a, b in zip(self.slots, self.slots[1:], strict=False):
            if a.end != b.start:
                raise ValueError(f"slots must be contiguous: {a.end} != {b.start}")
        ids = [w.id for w in self.wallboxes]
        if len(set(ids)) != len(ids):
            raise ValueError("wallbox ids must be unique")
        names = [c.name for c in self.cars]
        if len(set(names)) != len(names):
            raise ValueError("car names must be unique")
        for car in self.cars:
            unknown = set(car.wallbox_ids) - set(ids)
            if unknown:
                raise ValueError(f"car {car.name}: unknown wallbox ids {sorted(unknown)}")
        plugged = [c.wallbox_id for c in self.cars if c.wallbox_id is not None]
        if len(set(plugged)) != len(plugged):
            raise ValueError("two cars are plugged at the same wallbox")

    def wallbox(self, wallbox_id: int) -> WallboxInput:
        return next(w for w in self.wallboxes if w.id == wallbox_id)
