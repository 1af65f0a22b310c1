"""The sequencer: which requests are in force, when they end, what the planner gets, and
which car a person should plug in next (the handoff).

Order of work on every decision (DESIGN §1.3): settle requests with the newest SoC
first (target reached, car left, departure passed), then build the planner input, then
read the handoffs off the plan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from loguru import logger

from smartload.domain import SiteState, Snapshot, SocReading, plugged_vehicles
from smartload.requests import ChargeRequest, check_request
from smartload.settings import Settings, VehicleSettings
from smartload.sinks.desired import battery_controlled
from smartload.sinks.habit_watch import HabitWatch
from smartload.sinks.house_profile import HouseProfile, house_load_w
from smartload.sinks.requests import effective_requests
from smartload.sinks.solar_forecast import SolarCorrection
from smartload.sinks.taper import taper_delay
from smartload.store.requests import RequestStore

if TYPE_CHECKING:
    from smartload.planner import BatteryInput, CarInput, EarlyDeadline, Plan, PlannerInput, WallboxInput

DONE_MARGIN_PCT = 0.5
# A car that reached its target and is then driven must fall this far below the target
# before reaching it again is announced again (no flapping around the threshold).
REARM_PCT = 2.0
HORIZON = timedelta(hours=36)
# A car still plugged in after the departure its driver gave wants its energy now: the
# plan gets a departure this far ahead, moved on with every plan, until the car leaves.
OVERDUE_WINDOW = timedelta(minutes=15)
# How many past departures the early-departure margin learns from, and needs at least.
EARLY_SAMPLES = 50
EARLY_MIN_SAMPLES = 10
# How many past departures the early deadlines learn from (the tail needs more than the
# margin's quantile), and the step of the deadlines: how early each driver left, rounded
# up to it, is one (a plan's slots are quarter-hours: a finer one buys nothing).
EARLY_SCENARIO_SAMPLES = 100
EARLY_STEP = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class RequestEnded:
    vehicle: str
    at: datetime
    reason: str  # "target reached" | "left" | "departed"


@dataclass(frozen=True, slots=True)
class Handoff:
    """A person should plug `vehicle` into `wallbox_id` by `by` (replacing `replaces`)."""

    wallbox_id: int
    vehicle: str
    by: datetime
    replaces: str | None
    at: datetime

    def message(self, tz: tzinfo) -> str:
        when = self.by.astimezone(tz).strftime("%H:%M")
        swap = f" (unplug {self.replaces})" if self.replaces else ""
        return f"plug in {self.vehicle} at wallbox {self.wallbox_id} by {when}{swap}"


class Sequencer:
    def __init__(self, settings: Settings, store: RequestStore, house: HouseProfile,
                 habits: HabitWatch | None = None, solar: SolarCorrection | None = None) -> None:
        """solar: corrects the PV forecast by what was produced today (None: as forecast)."""
        self._settings = settings
        self.habits = habits
        self.solar = solar
        self._store = store
        self._house = house
        self._names = settings.vehicles_by_evcc_name()
        self._plugged: dict[str, int] = {}
        self._plugged_since: dict[str, datetime] = {}
        self._swapped_out: dict[int, str] = {}  # wallbox -> car a handoff asked to unplug
        self._last_handoff: dict[int, Handoff] = {}
        self._reached: set[tuple[str, datetime]] = set()
        self._overdue: set[int] = set()  # ids of requests past their departure, car still here
        # Cars the last planner input left out, with why.
        self.left_out: dict[str, str] = {}

    @property
    def house(self) -> HouseProfile:
        return self._house

    @property
    def plugged(self) -> dict[str, int]:
        """Configured vehicle -> the loadpoint it is plugged into, as of the last poll."""
        return dict(self._plugged)

    # -- settling ---------------------------------------------------------------------

    def observe_state(self, state: SiteState) -> list[RequestEnded]:
        """Track plug-ins and unplugs on every poll; an unplugged car has left for its
        request's departure (see _leaves_for), unless a handoff asked for exactly that swap."""
        self._house.observe(state.at, house_load_w(state))
        if self.solar is not None:
            self.solar.observe(state.at, state.pv_power_w, state.solar_adjusted)
        now_plugged = plugged_vehicles(state, self._names)
        ended = []
        requests = effective_requests(self._settings, self._store, state.at)
        for vehicle, lp_id in self._plugged.items():
            if vehicle in now_plugged:
                continue
            swapped = self._swapped_out.get(lp_id) == vehicle
            self._plugged_since.pop(vehicle, None)
            leaves = vehicle in requests and self._leaves_for(requests[vehicle], state.at)
            if not swapped and leaves:
                self._store.end(requests[vehicle], state.at, "left")
                ended.append(RequestEnded(vehicle, state.at, "left"))
            if not swapped and self.habits is not None:
                self.habits.unplugged(vehicle, state.at, lp_id, requests[vehicle].departure if leaves else None)
        for vehicle in now_plugged:
            if vehicle not in self._plugged and self.habits is not None:
                handoff = self._last_handoff.get(now_plugged[vehicle])
                self.habits.plugged(vehicle, state.at, now_plugged[vehicle],
                                    handoff is not None and handoff.vehicle == vehicle)
            if vehicle not in self._plugged and self._store.revive(vehicle, state.at):
                logger.info("{} is back before its departure: its request applies again", vehicle)
            self._plugged_since.setdefault(vehicle, state.at)
        self._plugged = now_plugged
        return ended

    def _leaves_for(self, request: ChargeRequest, now: datetime) -> bool:
        """Does a car unplugging now leave for this request's departure? A request someone
        made is for this stay. The schedule's next departure only if it is near: drivers
        announce the earliest they leave, so a car that goes after the last departure has
        passed, or out on another errand, comes back for the next one and still needs it."""
        return request.id is not None or request.departure - now <= self._settings.planning.early_departure_max

    def settle(self, now: datetime, socs: Mapping[str, SocReading]) -> list[RequestEnded]:
        """Report requests whose target is reached (once per crossing) and end those whose
        departure has passed.

        Reaching the target does not end the request: the car may be driven before its
        departure and need charging again, which the planner then sees (need > 0). A car
        still plugged in when the departure its driver gave has passed keeps its request
        (overdue) until it leaves: the driver was delayed and still wants the energy."""
        ended = []
        if self.habits is not None:
            self.habits.readings(now, socs)
        for vehicle, request in effective_requests(self._settings, self._store, now).items():
            reading = socs.get(vehicle)
            if request.departure <= now:
                if request.id is not None and vehicle in self._plugged:
                    if request.id not in self._overdue:
                        self._overdue.add(request.id)
                        logger.info("{} is still plugged in after its departure: charging what it lacks now", vehicle)
                    continue
                self._store.end(request, now, "departed")
                ended.append(RequestEnded(vehicle, now, "departed"))
                continue
            if request.target_soc_pct is None or reading is None:
                continue
            key = (vehicle, request.departure)
            if reading.soc_pct >= request.target_soc_pct - DONE_MARGIN_PCT:
                if key not in self._reached:
                    self._reached.add(key)
                    ended.append(RequestEnded(vehicle, now, "target reached"))
            elif reading.soc_pct < request.target_soc_pct - REARM_PCT:
                self._reached.discard(key)
        return ended

    def requests(self, now: datetime) -> dict[str, ChargeRequest]:
        return effective_requests(self._settings, self._store, now)

    # -- the Python API the web API and MQTT call -------------------------------------

    def add_request(self, request: ChargeRequest, now: datetime) -> ChargeRequest:
        if request.vehicle not in self._settings.vehicles:
            raise KeyError(f"unknown vehicle {request.vehicle!r}")
        check_request(request, now)  # the bounds every source shares, whoever calls
        return self._store.add(request, now)

    def cancel_request(self, vehicle: str, now: datetime) -> bool:
        return self._store.cancel(vehicle, now)

    def start_boost(self, vehicle: str, until: datetime) -> None:
        if vehicle not in self._settings.vehicles:
            raise KeyError(f"unknown vehicle {vehicle!r}")
        self._store.boost(vehicle, until)

    def boosts(self, now: datetime) -> dict[str, datetime]:
        return self._store.boosts(now)

    # -- planner input ----------------------------------------------------------------

    def _battery(self, state: SiteState) -> BatteryInput | None:
        from smartload.planner import BatteryInput

        config, battery = self._settings.battery, state.battery
        # A battery evcc cannot control runs on its own: left out of the plan.
        # battery_controlled requires a SoC as well; checked here too so that mypy narrows soc_pct.
        if (not config.enabled or battery is None or not battery.capacity_kwh or battery.soc_pct is None
                or not battery_controlled(state)):
            return None
        return BatteryInput(
            capacity_kwh=battery.capacity_kwh, soc_pct=battery.soc_pct,
            max_charge_w=config.max_charge_w, max_discharge_w=config.max_discharge_w,
            min_soc_pct=config.min_soc_pct, max_soc_pct=config.max_soc_pct, reserve_soc_pct=config.reserve_soc_pct,
            charge_efficiency=config.charge_efficiency, discharge_efficiency=config.discharge_efficiency,
            wear_eur_per_kwh=config.wear_eur_per_kwh, allow_grid_charge=config.allow_grid_charge,
        )

    @staticmethod
    def _wallboxes(state: SiteState, max_current_a: Mapping[int, float]) -> tuple[WallboxInput, ...]:
        from smartload.planner import WallboxInput

        boxes = []
        for lp in state.loadpoints:
            if lp.disabled or lp.is_device:  # a heat pump is no wallbox: its draw is house load
                continue
            highest = max_current_a.get(lp.id) or lp.max_current_a or 16.0
            boxes.append(WallboxInput(
                id=lp.id, phases=lp.phases, max_current_a=highest,
                # evcc may show a maximum below the 6 A default minimum (its minCurrent dropped
                # as impossible): the wallbox then charges at its maximum or not at all.
                min_current_a=min(lp.min_current_a or 6.0, highest),
            ))
        return tuple(boxes)

    def _available_from(self, vehicle: str, allowed: tuple[int, ...], now: datetime,
                        needs: Mapping[str, bool]) -> datetime:
        """A waiting car may take a wallbox only after the car there has dwelt long enough,
        so plans do not flip-flop between cars (unless that car needs nothing more)."""
        dwell = self._settings.planning.handoff_min_dwell
        earliest = now
        for other, lp_id in self._plugged.items():
            if other == vehicle or lp_id not in allowed or not needs.get(other, False):
                continue
            since = self._plugged_since.get(other, now)
            earliest = max(earliest, min(since + dwell, now + dwell))
        return earliest

    def early_margin(self, newest: list[timedelta] | None = None) -> timedelta:
        """How much earlier than they say drivers may leave: the configured quantile of how
        early the last drivers left, capped; zero until enough have left. newest: the
        store's early departures, newest first, if already read."""
        planning = self._settings.planning
        if newest is None:
            newest = self._store.early_departures(EARLY_SAMPLES)
        samples = sorted(newest[:EARLY_SAMPLES])
        if len(samples) < EARLY_MIN_SAMPLES or planning.early_departure_quantile <= 0:
            return timedelta(0)
        at = min(len(samples) - 1, math.ceil(planning.early_departure_quantile * len(samples)) - 1)
        return min(samples[max(0, at)], planning.early_departure_max)

    def early_samples(self, newest: list[timedelta] | None = None) -> list[tuple[timedelta, float]]:
        """How early the last drivers left, each (how early, weight), sorted, beside the
        settings' prior: EARLY_MIN_SAMPLES pseudo-drivers, early_departure_prior_share of
        them leaving early, spread evenly over the EARLY_STEPs up to early_departure_max
        (the rest on time). The prior stays: ten drivers who all kept their word (short
        stays often do) must not teach that nobody leaves early, and a first evening
        driver who leaves hours early then finds his car charged."""
        planning = self._settings.planning
        if newest is None:
            newest = self._store.early_departures(EARLY_SCENARIO_SAMPLES)
        weights: dict[timedelta, float] = {}
        for sample in newest[:EARLY_SCENARIO_SAMPLES]:
            weights[sample] = weights.get(sample, 0.0) + 1.0
        steps = math.ceil(planning.early_departure_max / EARLY_STEP)
        early = planning.early_departure_prior_share * EARLY_MIN_SAMPLES
        if steps > 0 and early > 0:
            for k in range(1, steps + 1):
                at = min(k * EARLY_STEP, planning.early_departure_max)
                weights[at] = weights.get(at, 0.0) + early / steps
        on_time = EARLY_MIN_SAMPLES - (early if steps > 0 else 0.0)
        if on_time > 0:
            weights[timedelta(0)] = weights.get(timedelta(0), 0.0) + on_time
        return sorted(weights.items())

    def early_deadlines(self, departure: datetime, ahead: timedelta, need_kwh: float, now: datetime,
                        samples: list[tuple[timedelta, float]]) -> tuple[EarlyDeadline, ...]:
        """Soft deadlines for a driver who gave `departure`: one per time, `ahead` (the
        taper) before it, at which some of the drivers had left (how early each left,
        rounded up to EARLY_STEP; samples: (how early, weight) as early_samples gives).
        A kWh the plan delivers only after a deadline is missed by every driver gone by
        the next later one (or by the departure given): the deadlines' penalties add up to
        that chance, given the driver is still here now, times what a missed kWh is worth.
        Every time drivers left at is a deadline, so a kWh costs the chance of its driver
        being gone when it comes, not that of the nearest of a few quantiles (a coarse grid
        let a short stay with little slack wait into the hour its driver was gone)."""
        from smartload.planner import EarlyDeadline

        value = self._settings.planning.early_departure_miss_eur_per_kwh
        total = sum(w for _, w in samples)
        if value <= 0 or need_kwh <= 0 or total <= 0:
            return ()
        step = EARLY_STEP.total_seconds()
        rounded = [(timedelta(seconds=math.ceil(s.total_seconds() / step) * step), w) for s, w in samples]

        def leaving_before(by: timedelta) -> float:
            """The share of drivers gone `by` before the departure they gave, or sooner."""
            return sum(w for s, w in rounded if s > by) / total

        gone = sum(w for s, w in samples if s >= departure - now) / total  # would have left by now
        if gone >= 1.0 - 1e-9:
            return ()
        levels = sorted({s for s, _ in rounded} - {timedelta(0)}, reverse=True)
        levels = [x for x in levels if departure - x - ahead > now]
        deadlines, paid = [], 0.0
        for j, early in enumerate(levels):
            later = levels[j + 1] if j + 1 < len(levels) else timedelta(0)
            chance = max(0.0, (leaving_before(later) - gone) / (1.0 - gone))
            if chance > paid:
                deadlines.append(EarlyDeadline(departure - early - ahead, need_kwh, value * (chance - paid)))
                paid = chance
        return tuple(deadlines)

    def planner_input(
        self, snapshot: Snapshot, requests: Mapping[str, ChargeRequest], max_current_a: Mapping[int, float],
        charging_at: Mapping[int, bool] | None = None,
    ) -> PlannerInput | None:
        """charging_at: per loadpoint, whether the action in force charges the car there
        (the planner's hysteresis keeps it unless a change saves enough)."""
        # The planner (and HiGHS with it) loads at the first plan, not before the first poll.
        from smartload.planner import PlannerInput, make_slots

        state = snapshot.state
        if state is None:
            return None
        now = snapshot.at
        tariffs = snapshot.tariffs
        solar = tariffs.solar if self.solar is None else self.solar.corrected(now, tariffs.solar)
        slots = make_slots(now, tariffs.grid, tariffs.feedin, solar, self._house.mean_w, now + HORIZON)
        if not slots:
            return None
        wallboxes = self._wallboxes(state, max_current_a)
        all_ids = tuple(w.id for w in wallboxes)
        cars, needs = [], {}
        for vehicle, request in requests.items():
            config = self._settings.vehicles[vehicle]
            reading = snapshot.socs.get(vehicle)
            soc = reading.soc_pct if reading is not None else None
            if soc is None and request.energy_kwh is None:
                soc = self._settings.planning.unknown_soc_pct
            target = request.target_soc_pct or 100.0
            if soc is not None and soc >= target - DONE_MARGIN_PCT:
                target = soc  # done, as settle() announced: no last half percent to chase
            needs[vehicle] = request.energy_kwh is not None or (soc is not None and soc < target - DONE_MARGIN_PCT)
            cars.append((vehicle, config, request, soc, target))
        car_inputs = []
        self.left_out = {}
        explicit = any(r.id is not None for r in requests.values())
        # One read of the store serves both: the margin's newest EARLY_SAMPLES are a prefix.
        newest = self._store.early_departures(EARLY_SCENARIO_SAMPLES) if explicit else []
        early = self.early_margin(newest) if explicit else timedelta(0)
        samples = self.early_samples(newest) if explicit else []
        for vehicle, config, request, soc, target in cars:
            if self.habits is not None:
                self.habits.request_seen(vehicle, request.departure, vehicle in self._plugged, now)
            try:
                car = self._car_input(vehicle, config, request, soc, target, early, now, all_ids, needs, samples)
                if car.wallbox_id is not None and charging_at and car.wallbox_id in charging_at:
                    car = replace(car, charging_now=charging_at[car.wallbox_id])
                if self.habits is not None:
                    car = self.habits.plan_car(car, now)
                car_inputs.append(car)
            except (ValueError, OverflowError) as exc:  # a request no edge check caught: only this car
                self.left_out[vehicle] = f"its request cannot be planned ({exc})"
        return PlannerInput(now, slots, self._battery(state), wallboxes, tuple(car_inputs))

    def _car_input(self, vehicle: str, config: VehicleSettings, request: ChargeRequest, soc: float | None,
                   target: float, early: timedelta, now: datetime, all_ids: tuple[int, ...],
                   needs: Mapping[str, bool], samples: list[tuple[timedelta, float]]) -> CarInput:
        from smartload.planner import CarInput

        # The plan's departure: earlier by how early drivers leave (for a departure a
        # driver gave) and by the time the taper adds; never before the next quarter-hour.
        ahead = early if request.id is not None else timedelta(0)  # stored: explicit, not the schedule's
        taper = timedelta(0)
        if soc is not None:
            taper = taper_delay(config.capacity_kwh, config.charge_efficiency, config.max_charge_w, soc, target,
                                config.taper_from_soc_pct)
        ahead += taper
        soonest = now + OVERDUE_WINDOW if request.departure <= now else min(request.departure, now + OVERDUE_WINDOW)
        departure = max(request.departure - ahead, soonest)
        plugged_at = self._plugged.get(vehicle)
        # A plugged car stays where it is; a waiting one may go to any wallbox it fits.
        allowed = () if plugged_at is not None else tuple(w for w in (config.wallboxes or all_ids) if w in all_ids)
        need = max(0.0, (target - soc) / 100.0 * config.capacity_kwh) if soc is not None else request.energy_kwh or 0.0
        overdue = request.departure <= now
        deadlines = () if request.id is None or overdue else self.early_deadlines(
            request.departure, taper, need, now, samples)
        return CarInput(
            name=vehicle, capacity_kwh=config.capacity_kwh, target_soc_pct=target, soc_pct=soc,
            energy_needed_kwh=request.energy_kwh if soc is None else None, departure=departure,
            priority=request.priority, max_charge_w=config.max_charge_w,
            charge_efficiency=config.charge_efficiency, wallbox_id=plugged_at,
            allowed_wallboxes=allowed,
            available_from=None if plugged_at is not None else self._available_from(vehicle, allowed, now, needs),
            early_deadlines=tuple(d for d in deadlines if d.at < departure),
        )

    # -- handoffs ---------------------------------------------------------------------

    def _on_the_road(self, vehicle: str, now: datetime) -> bool:
        """A car planned from its expected arrival: nobody can plug it in yet."""
        return self.habits is not None and self.habits.expected(vehicle, now) is not None

    def handoffs(self, plan: Plan, now: datetime) -> list[Handoff]:
        """Announce "plug in X by T" for a wallbox once it is X's turn: X is planned there
        from T on, and the car plugged in there now (if any) has nothing planned there
        before T, because it is done or the plan pauses it. Each handoff is said once."""
        from smartload.planner.slots import quarter_hour_floor

        new = []
        occupant = {lp_id: v for v, lp_id in self._plugged.items()}
        wallboxes = sorted({cs.wallbox_id for s in plan.slots for cs in s.cars.values() if cs.wallbox_id is not None})
        for lp_id in wallboxes:
            here = occupant.get(lp_id)
            first = next(
                ((s.start, v) for s in plan.slots for v, cs in s.cars.items()
                 if cs.wallbox_id == lp_id and cs.charging and v != here and self._plugged.get(v) != lp_id
                 and not self._on_the_road(v, now)),
                None,
            )
            if first is None:
                self._last_handoff.pop(lp_id, None)
                continue
            by, vehicle = first
            busy = here is not None and any(
                s.start < by and (cs := s.cars.get(here)) is not None and cs.charging and cs.wallbox_id == lp_id
                for s in plan.slots
            )
            if busy:
                continue
            handoff = Handoff(lp_id, vehicle, max(by, now), here, now)
            previous = self._last_handoff.get(lp_id)
            # The first slot starts at now, so compare the quarter-hour, not the instant.
            if previous is not None and previous.vehicle == handoff.vehicle and (
                quarter_hour_floor(previous.by) == quarter_hour_floor(handoff.by)
            ):
                continue
            self._last_handoff[lp_id] = handoff
            if here is not None:
                self._swapped_out[lp_id] = here
            new.append(handoff)
        return new
