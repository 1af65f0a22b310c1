"""The sequencer-and-planner sink: settle requests, plan everything, act, announce.

On each snapshot (a quarter-hour tick or an event) it settles the requests with the
newest SoC, hands all cars and the battery to the solver (in place, or on a worker thread
in the live service: solver.py), and when the plan is back hands its current slot to the
actuator and reads the handoffs off it. On each poll it lets the actuator compare evcc
with the plan and the sequencer notice plug-ins and unplugs.

Faults stay local. A plan is acted on only from a fresh state: while evcc has not
answered for more than two poll intervals nothing is planned or written, and the plan
shows as stale until evcc answers again (which re-plans at once). A car the planner
cannot take is left out of the plan with its reason, told once, and the others are
planned. A fresh SoC that differs from what the plan in force used re-plans within one
poll interval instead of waiting for the next quarter-hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from loguru import logger
from reactivex.subject import Subject

from smartload.domain import SiteState, Snapshot, SocReading, plugged_vehicles
from smartload.habits import HabitBook
from smartload.requests import ChargeRequest
from smartload.settings import Settings
from smartload.sinks.actuator import Actuator
from smartload.sinks.desired import desired_settings
from smartload.sinks.evcc_keys import lp_id
from smartload.sinks.habit_watch import HabitWatch, cold_starts
from smartload.sinks.house_profile import HouseProfile
from smartload.sinks.restore_book import RestoreStore
from smartload.sinks.sequencer import Handoff, RequestEnded, Sequencer
from smartload.sinks.solar_forecast import SolarCorrection
from smartload.sinks.solver import InlineSolver, Outcome, Solver
from smartload.store.habits import HabitStore
from smartload.store.house import HouseProfileStore
from smartload.store.requests import RequestStore
from smartload.streams.ticks import Trigger

if TYPE_CHECKING:
    from smartload.planner import Plan, PlannerSettings

# The profile moves slowly; losing at most this much of it to a crash costs nothing.
HOUSE_SAVE_EVERY = timedelta(hours=1)
# A state older than this many poll intervals is not acted on.
STALE_AFTER_POLLS = 2
# A fresh reading this far from what the plan used re-plans (percentage points).
REPLAN_SOC_PCT = 2.0


def planner_settings(settings: Settings) -> PlannerSettings:
    from smartload.planner import PlannerSettings  # with HiGHS: at the first plan, after the first poll

    planning = settings.planning
    return PlannerSettings(
        time_limit_s=planning.time_limit.total_seconds(), mip_rel_gap=planning.mip_gap,
        shortfall_penalty_eur_per_kwh=planning.shortfall_penalty_eur_per_kwh,
        swap_penalty_eur=planning.swap_penalty_eur, switch_penalty_eur=planning.switch_penalty_eur,
        grid_import_limit_w=planning.grid_import_limit_w,
        battery_wear_eur_per_kwh=settings.battery.wear_eur_per_kwh, timezone=settings.site.timezone,
        expected_end_value=planning.expected_end_value,
    )


def _measured(before: SocReading | None, now: SocReading) -> bool:
    """Is `now` a measurement the plan should hear of? A car's cloud or a person's entry
    is. evcc's own value only when it is the first with a known time (evcc read the car
    after its plug-in): while charging, evcc's estimate moves every poll, and the value
    evcc shows at a plug-in (of unknown age) comes with the plug-in's own re-plan."""
    if now.source != "evcc":
        return True
    return now.measured_at_known and (before is None or not before.measured_at_known)


def fresher(used: Mapping[str, SocReading | None], socs: Mapping[str, SocReading]
            ) -> tuple[list[str], dict[str, SocReading | None]]:
    """The cars whose newest reading should change the plan in force, each with why, and
    the readings the plan counts as known from now on (a measurement equal to what it
    used takes that one's place, so evcc's later estimates are judged against it)."""
    news, known = [], dict(used)
    for vehicle, before in used.items():
        now = socs.get(vehicle)
        if now is None or now is before or not _measured(before, now):
            continue
        known[vehicle] = now
        if before is None or abs(now.soc_pct - before.soc_pct) >= REPLAN_SOC_PCT:
            was = "none" if before is None else f"{before.soc_pct:.0f} %"
            news.append(f"{vehicle} SoC {now.soc_pct:.0f} % from {now.source} (the plan used {was})")
    return news, known


@dataclass(frozen=True, slots=True)
class PlanMade:
    """A plan acted on, with the snapshot it was made from."""

    plan: Plan
    snapshot: Snapshot


@dataclass
class PlanningSink:
    """What it decides leaves as streams: `planned`, `handed_off`, `request_ends`, and
    `replans` (re-plan requests, the graph's event input); the actuator's writes and
    notices leave on its own."""

    settings: Settings
    sequencer: Sequencer
    actuator: Actuator
    solver: Solver = field(default_factory=InlineSolver)
    plan: Plan | None = None
    requests: dict[str, ChargeRequest] = field(default_factory=dict)
    handoffs: list[Handoff] = field(default_factory=list)
    ended: list[RequestEnded] = field(default_factory=list)
    planned: Subject[PlanMade] = field(default_factory=Subject)
    handed_off: Subject[Handoff] = field(default_factory=Subject)
    request_ends: Subject[RequestEnded] = field(default_factory=Subject)
    replans: Subject[Trigger] = field(default_factory=Subject)
    name: str = "planner"
    house_store: HouseProfileStore | None = None
    habit_store: HabitStore | None = None
    # Why the plan is not acted on now (evcc silent), or None while it is.
    stale: str | None = None
    # Cars the last plan left out, with why.
    left_out: dict[str, str] = field(default_factory=dict)
    _house_saved_at: datetime | None = None
    _last_state: SiteState | None = None
    # Each loadpoint's own maximum current, as evcc shows it while smartload has not set it.
    _max_current_a: dict[int, float] = field(default_factory=dict)
    # The readings the plan in force (or in the making) was made from.
    _planned_socs: dict[str, SocReading | None] = field(default_factory=dict)
    _battery_told: bool = False
    _stopped: bool = False

    def __post_init__(self) -> None:
        self._planner_settings: PlannerSettings | None = None  # made at the first plan
        self._names = self.settings.vehicles_by_evcc_name()
        self._stale_after = self.settings.evcc.poll_interval * STALE_AFTER_POLLS

    def replan(self, at: datetime, reason: str) -> None:
        """Ask for a plan now rather than at the next quarter-hour (the graph throttles)."""
        self.replans.on_next((at, reason))

    def _ended(self, events: list[RequestEnded]) -> None:
        for event in events:
            logger.info("{}: request ended ({})", event.vehicle, event.reason)
            self.ended.append(event)
            self.request_ends.on_next(event)
            self.replan(event.at, f"{event.vehicle} {event.reason}")

    @property
    def last_state(self) -> SiteState | None:
        return self._last_state

    def on_state(self, state: SiteState) -> None:
        self._last_state = state
        battery = state.battery
        if self.settings.battery.enabled and battery is not None and battery.controllable is False \
                and not self._battery_told:
            self._battery_told = True
            logger.warning("evcc cannot control the home battery (battery.devices[].controllable false): "
                           "smartload leaves it to evcc and plans without it")
        for lp in state.loadpoints:
            # Once smartload has set a current, evcc shows that; the wallbox's own maximum
            # is what evcc showed before (it outlives the session that changed it).
            original = self.actuator.original(f"lp{lp.id}.maxcurrent")
            if original is not None:
                self._max_current_a[lp.id] = float(original)
            elif lp.max_current_a and not self.actuator.owns(f"lp{lp.id}.maxcurrent"):
                self._max_current_a[lp.id] = lp.max_current_a
        before = self.sequencer.plugged
        ended = self.sequencer.observe_state(state)
        self._ended(ended)
        # A car unplugged that keeps its request (it comes back for its departure) still
        # frees its wallbox for the next car now, not at the next quarter-hour.
        gone = before.keys() - self.sequencer.plugged.keys() - {event.vehicle for event in ended}
        for vehicle in sorted(gone):
            self.replan(state.at, f"{vehicle} unplugged")
        if self.stale is not None:
            logger.info("evcc answers again: planning from its state")
            self.stale = None
            self.replan(state.at, "evcc answers again")
            return  # the plan from before the silence is not acted on: the next one is
        if not self._stopped:  # shutting down: what smartload changed is being put back
            self.actuator.on_state(state)

    def on_socs(self, at: datetime, socs: Mapping[str, SocReading]) -> None:
        """A car reaching its target makes the next car due at once, not at the next tick;
        a fresh reading that the plan did not have re-plans."""
        self._ended(self.sequencer.settle(at, socs))
        news, self._planned_socs = fresher(self._planned_socs, socs)
        if news:
            self.replan(at, "; ".join(news))

    def _staleness(self, snapshot: Snapshot) -> str | None:
        state = snapshot.state
        if state is None:
            return None
        silent = snapshot.at - state.at
        if silent <= self._stale_after:
            return None
        return f"evcc has not answered for {silent.total_seconds():.0f} s"

    def on_snapshot(self, snapshot: Snapshot) -> None:
        now = snapshot.at
        self._ended(self.sequencer.settle(now, snapshot.socs))
        self.requests = self.sequencer.requests(now)
        stale = self._staleness(snapshot)
        if stale is not None:
            if self.stale is None:
                logger.warning("plan stale: {}; nothing is planned or written until it answers", stale)
                self.actuator.set_desired({})
            self.stale = stale
            return
        inputs = self.sequencer.planner_input(snapshot, self.requests, self._max_current_a, self._in_force())
        if inputs is None or snapshot.state is None:
            logger.info("no plan at {}: {}", now.isoformat(), "evcc not reached yet" if snapshot.state is None
                        else "no grid price covers now")
            return
        self._planned_socs = {v: snapshot.socs.get(v) for v in self.requests}
        left_out = dict(self.sequencer.left_out)
        if self._planner_settings is None:
            self._planner_settings = planner_settings(self.settings)
        self.solver.submit(inputs, self._planner_settings, lambda outcome: self._planned(outcome, snapshot, left_out))

    def _in_force(self) -> dict[int, bool]:
        """Per loadpoint: does the action smartload asked evcc for charge (mode now)?"""
        out = {}
        for key, intent in self.actuator.desired.items():
            loadpoint = lp_id(key)
            if loadpoint is not None and key.endswith(".mode"):
                out[loadpoint] = intent.value == "now"
        return out

    def _planned(self, outcome: Outcome, snapshot: Snapshot, left_out: dict[str, str]) -> None:
        if self._stopped:
            return  # shutting down: what smartload changed is being put back
        left_out.update(outcome.dropped)
        for vehicle, why in left_out.items():
            if self.left_out.get(vehicle) != why:
                logger.warning("{}: left out of the plan: {}", vehicle, why)
        self.left_out = left_out
        plan = outcome.plan
        if plan is None:
            logger.error("no plan at {}: the planner failed ({})", snapshot.at.isoformat(), outcome.error)
            return
        if self.stale is not None or snapshot.state is None:
            return  # evcc fell silent while the planner ran
        self.plan = plan
        now = snapshot.at
        self._act(plan, snapshot.state, now)
        for handoff in self.sequencer.handoffs(plan, now):
            self.handoffs.append(handoff)
            logger.info("handoff: {}", handoff.message(self.settings.site.tz))
            self.handed_off.on_next(handoff)
        self.planned.on_next(PlanMade(plan, snapshot))
        self._log(plan)
        if self._house_saved_at is None or now - self._house_saved_at >= HOUSE_SAVE_EVERY:
            self._save_house(now)

    def _save_house(self, now: datetime) -> None:
        if self.house_store is not None:
            self.house_store.save(self.sequencer.house.learned())
        if self.habit_store is not None and self.sequencer.habits is not None:
            self.habit_store.save(self.sequencer.habits.book.state())
        self._house_saved_at = now

    def _act(self, plan: Plan, state: SiteState, now: datetime) -> None:
        expected = {h.wallbox_id: h.vehicle for h in self.handoffs[-8:]}
        boosts = frozenset(self.sequencer.boosts(now))
        # A car the settings do not know is evcc's to charge: none of its settings is written.
        ours = {v: lp for v, lp in plugged_vehicles(state, self._names).items() if v in self.settings.vehicles}
        unannounced = frozenset(v for v in ours if v not in self.requests) \
            if self.settings.planning.charge_until_announced else frozenset()
        intents = desired_settings(
            state, plan.current_slot(now), self.requests, ours, expected,
            {v: self.settings.evcc_name(v) for v in self.settings.vehicles}, boosts, self._max_current_a,
            battery=self.settings.battery.enabled, unannounced=unannounced,
        )
        self.actuator.set_desired(intents)
        self.actuator.on_state(self._last_state or state)

    def _log(self, plan: Plan) -> None:
        cars = "; ".join(
            f"{c.name}: {c.energy_charged_kwh:.1f} kWh for {c.cost_eur:.2f} EUR"
            + (f", {c.shortfall_kwh:.1f} kWh short" if c.shortfall_kwh > 0.05 else "")
            for c in plan.cars.values()
        )
        logger.info("plan {} in {:.2f} s: {} slots, cost {:.2f} EUR; {}", plan.status, plan.solve_time_s,
                    len(plan.slots), plan.cost_eur, cars or "no car requests")

    def stop(self) -> None:
        """No plan acts and no poll writes from now on (before a clean stop restores
        evcc's settings)."""
        self._stopped = True
        self.solver.close()

    def close(self) -> None:
        """Keep what the house profile learned since the last save; stop the solver."""
        self.stop()
        if self._last_state is not None:
            self._save_house(self._last_state.at)


def make_planning(
    settings: Settings,
    store: RequestStore,
    house_store: HouseProfileStore | None = None,
    restore_store: RestoreStore | None = None,
    solver: Solver | None = None,
    habit_store: HabitStore | None = None,
) -> PlanningSink:
    """house_store: where the learned house-load profile is restored from and kept (the
    live service's data directory); None: learned afresh, as a what-if run does.
    restore_store: where what evcc had before smartload changed it is kept (None: memory).
    solver: where plans are solved (None: in place).
    habit_store: where the learned driver habits are restored from and kept (None: learned afresh)."""
    planning = settings.planning
    learned = house_store.load() if house_store is not None else None
    if learned:
        logger.info("house-load profile: {} of 192 quarter-hours restored", len(learned))
    house = HouseProfile(settings.site.tz, planning.house_load_w, planning.house_load_learning_per_min, learned)
    habits = HabitBook(settings.site.tz, planning.habit_learning_rate, cold_starts(settings),
                       habit_store.load() if habit_store is not None else None, planning.learn_habits)
    watch = HabitWatch(habits, planning.expected_arrivals)
    solar = SolarCorrection(settings.site.tz, adjusted=planning.solar_adjusted, blend=planning.solar_blend)
    actuator = Actuator(settings.control, restore_store)
    return PlanningSink(settings, Sequencer(settings, store, house, watch, solar), actuator, solver or InlineSolver(),
                        house_store=house_store, habit_store=habit_store)
