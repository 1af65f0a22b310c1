"""Settings of the planner: default targets and departures, solver limits, penalties, the
house load and how far drivers' departures are trusted."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from smartload.settings.types import REQUEST_MAX_TARGET_SOC_PCT, REQUEST_MIN_TARGET_SOC_PCT, Duration, StrictModel
from smartload.settings.vehicles import Weekday, check_departures

_DEFAULT_DEPARTURES: dict[Weekday, str | None] = {
    "mon": "07:00", "tue": "07:00", "wed": "07:00", "thu": "07:00", "fri": "07:00",
    "sat": "10:00", "sun": "10:00",
}


class PlanningSettings(StrictModel):
    default_target_soc_pct: float = Field(default=80.0, ge=REQUEST_MIN_TARGET_SOC_PCT, le=REQUEST_MAX_TARGET_SOC_PCT)
    departures: dict[Weekday, str | None] = Field(default_factory=lambda: _DEFAULT_DEPARTURES.copy())
    time_limit: Duration = timedelta(seconds=2)
    mip_gap: float = Field(default=0.005, ge=0, lt=1)
    shortfall_penalty_eur_per_kwh: float = Field(default=10.0, gt=0)
    swap_penalty_eur: float = Field(default=0.10, ge=0)
    # Hysteresis: what turning a plugged car on or off against the action in force must save.
    switch_penalty_eur: float = Field(default=0.05, ge=0)
    grid_import_limit_w: float | None = Field(default=None, gt=0)
    house_load_w: float = Field(default=500.0, ge=0)
    # How fast the house-load profile learns: each minute of readings moves its
    # quarter-hour's mean by this share of the difference (0.01: about a week of memory).
    house_load_learning_per_min: float = Field(default=0.01, gt=0, le=1)
    # Drivers who give a departure often leave earlier: plans for their requests end this
    # quantile of how early the last drivers left (after 10 such departures), at most
    # early_departure_max before the departure given. 0 or a zero max: trust the drivers.
    early_departure_quantile: float = Field(default=0.8, ge=0, le=1)
    early_departure_max: Duration = timedelta(hours=2)
    # What a kWh is worth to a driver who leaves before the departure given, against the
    # plan's savings: each kWh planned after a time when some drivers are gone pays this
    # times the share gone by then (learned from the last 100 departures), so the plan
    # front-loads the energy early departures put at risk when that beats a cheaper slot
    # later. 0: no early deadlines (only the margin above).
    early_departure_miss_eur_per_kwh: float = Field(default=2.0, ge=0)
    # Beside the drivers seen, a prior of 10 drivers: this share of them leaves early,
    # spread evenly over the quarter-hours up to early_departure_max.
    early_departure_prior_share: float = Field(default=0.25, ge=0, le=1)
    # A plugged car with no request (no departure given, none in its schedule) charges at
    # once until its driver gives one: for fleets, whose drivers say when they leave only
    # after plugging in, and some leave before they do. False: it waits.
    charge_until_announced: bool = False
    # Planned with when a car's SoC is unknown: low, so the car gets enough rather than too little.
    unknown_soc_pct: float = Field(default=20.0, ge=0, le=100)
    handoff_min_dwell: Duration = timedelta(minutes=30)
    # Driver habits (habits.py): each trip moves its weekday's learned arrival, arrival SoC
    # and departure by this share of the difference (0.25: a month of memory). With
    # expected_arrivals, a car on the road is planned from when it usually comes home, with
    # what it usually lacks then, so cheap slots and the battery are kept for it.
    # learn_habits false keeps to the vehicles' usual_arrival & co.
    habit_learning_rate: float = Field(default=0.25, gt=0, le=1)
    learn_habits: bool = True
    expected_arrivals: bool = True
    # Value what is left in the battery and the cars at the horizon's end by what it saves
    # on the expected day after it (the horizon's last day repeated: prices, PV, house load;
    # planner/terminal.py); false: a quantile of the horizon's import prices per kWh. Off
    # until it measures better: on the household's four what-if weeks it cost 0.24 EUR more.
    expected_end_value: bool = False
    # The PV forecast corrected by what the panels produced (sinks/solar_forecast.py): the
    # rest of today scaled by today's produced over forecast energy, and the next
    # solar_blend pulled towards the last quarter-hour's ratio, fading to the day's.
    # "evcc": when evcc's own switch for it (solarAdjusted, in its UI) is on; true / false.
    # evcc ships its switch off; on the simulator's household weeks it paid only where the
    # forecast misses whole days (figures in sinks/solar_forecast.py).
    solar_adjusted: Literal["evcc"] | bool = "evcc"
    solar_blend: Duration = timedelta(hours=1)

    @field_validator("departures")
    @classmethod
    def _departures(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        return check_departures(value)
