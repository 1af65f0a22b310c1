"""The sequencer-and-planner sink: settle requests, plan everything, act, announce.

On each snapshot (a quarter-hour tick or an event) it settles the requests with the
newest SoC, plans all cars and the battery over the known horizon, hands the current
slot to the actuator and reads the handoffs off the plan. On each poll it lets the
actuator compare evcc with the plan and the sequencer notice plug-ins and unplugs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from loguru import logger

from smartload.domain import SiteState, Snapshot, SocReading
from smartload.settings import Settings
from smartload.sinks.actuator import Actuator, Write
from smartload.sinks.desired import desired_settings
from smartload.sinks.house_profile import HouseProfile
from smartload.sinks.house_store import HouseProfileStore
from smartload.sinks.planner import Plan, PlannerSettings, make_plan
from smartload.sinks.requests import ChargeRequest, RequestStore
from smartload.sinks.sequencer import Handoff, RequestEnded, Sequencer, plugged_vehicles

# The profile moves slowly; losing at most this much of it to a crash costs nothing.
HOUSE_SAVE_EVERY = timedelta(hours=1)


def planner_settings(settings: Settings) -> PlannerSettings:
    planning = settings.planning
    return PlannerSettings(
        time_limit_s=planning.time_limit.total_seconds(), mip_rel_gap=planning.mip_gap,
        shortfall_penalty_eur_per_kwh=planning.shortfall_penalty_eur_per_kwh,
        swap_penalty_eur=planning.swap_penalty_eur, grid_import_limit_w=planning.grid_import_limit_w,
        battery_wear_eur_per_kwh=settings.battery.wear_eur_per_kwh, timezone=settings.site.timezone,
    )


@dataclass
class PlanningSink:
    settings: Settings
    sequencer: Sequencer
    actuator: Actuator
    replan: Callable[[datetime, str], None] = lambda at, reason: None
    solve: Callable[..., Plan] = make_plan
    plan: Plan | None = None
    requests: dict[str, ChargeRequest] = field(default_factory=dict)
    handoffs: list[Handoff] = field(default_factory=list)
    ended: list[RequestEnded] = field(default_factory=list)
    plan_listeners: list[Callable[[Plan, Snapshot], None]] = field(default_factory=list)
    handoff_listeners: list[Callable[[Handoff], None]] = field(default_factory=list)
    ended_listeners: list[Callable[[RequestEnded], None]] = field(default_factory=list)
    name: str = "planner"
    house_store: HouseProfileStore | None = None
    _house_saved_at: datetime | None = None
    _last_state: SiteState | None = None
    # Each loadpoint's own maximum current, as evcc shows it while smartload has not set it.
    _max_current_a: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._planner_settings = planner_settings(self.settings)
        self._names = {self.settings.evcc_name(v): v for v in self.settings.vehicles}

    def _ended(self, events: list[RequestEnded]) -> None:
        for event in events:
            logger.info("{}: request ended ({})", event.vehicle, event.reason)
            self.ended.append(event)
            for listener in self.ended_listeners:
                listener(event)
            self.replan(event.at, f"{event.vehicle} {event.reason}")

    @property
    def last_state(self) -> SiteState | None:
        return self._last_state

    def on_state(self, state: SiteState) -> None:
        self._last_state = state
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
        self.actuator.on_state(state)

    def on_socs(self, at: datetime, socs: dict[str, SocReading]) -> None:
        """A car reaching its target makes the next car due at once, not at the next tick."""
        self._ended(self.sequencer.settle(at, socs))

    def on_snapshot(self, snapshot: Snapshot) -> None:
        now = snapshot.at
        self._ended(self.sequencer.settle(now, snapshot.socs))
        self.requests = self.sequencer.requests(now)
        inputs = self.sequencer.planner_input(snapshot, self.requests, self._max_current_a)
        if inputs is None or snapshot.state is None:
            logger.info("no plan at {}: {}", now.isoformat(), "evcc not reached yet" if snapshot.state is None
                        else "no grid price covers now")
            return
        plan = self.solve(inputs, self._planner_settings)
        self.plan = plan
        self._act(plan, snapshot.state, now)
        for handoff in self.sequencer.handoffs(plan, now):
            self.handoffs.append(handoff)
            logger.info("handoff: {}", handoff.message(self.settings.site.tz))
            for on_handoff in self.handoff_listeners:
                on_handoff(handoff)
        for on_plan in self.plan_listeners:
            on_plan(plan, snapshot)
        self._log(plan)
        if self._house_saved_at is None or now - self._house_saved_at >= HOUSE_SAVE_EVERY:
            self._save_house(now)

    def _save_house(self, now: datetime) -> None:
        if self.house_store is not None:
            self.house_store.save(self.sequencer.house.learned())
            self._house_saved_at = now

    def _act(self, plan: Plan, state: SiteState, now: datetime) -> None:
        expected = {h.wallbox_id: h.vehicle for h in self.handoffs[-8:]}
        boosts = frozenset(self.sequencer.boosts(now))
        intents = desired_settings(
            state, plan.current_slot(now), self.requests, plugged_vehicles(state, self._names), expected,
            {v: self.settings.evcc_name(v) for v in self.settings.vehicles}, boosts, self._max_current_a,
            battery=self.settings.battery.enabled,
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

    def close(self) -> None:
        """Keep what the house profile learned since the last save."""
        if self._last_state is not None:
            self._save_house(self._last_state.at)


def boost(sink: PlanningSink, vehicle: str, minutes: int, now: datetime) -> None:
    """Full power now for a while, whatever the plan says."""
    sink.sequencer.start_boost(vehicle, now + timedelta(minutes=minutes))
    sink.replan(now, f"boost {vehicle}")


def make_planning(
    settings: Settings,
    store: RequestStore,
    send: Callable[[Write], None],
    replan: Callable[[datetime, str], None],
    observed_write: Callable[[Write, datetime], None] | None = None,
    house_store: HouseProfileStore | None = None,
) -> PlanningSink:
    """house_store: where the learned house-load profile is restored from and kept (the
    live service's data directory); None: learned afresh, as a what-if run does."""
    planning = settings.planning
    learned = house_store.load() if house_store is not None else None
    if learned:
        logger.info("house-load profile: {} of 192 quarter-hours restored", len(learned))
    house = HouseProfile(settings.site.tz, planning.house_load_w, planning.house_load_learning_per_min, learned)
    actuator = Actuator(settings.control, send, observed_write)
    return PlanningSink(settings, Sequencer(settings, store, house), actuator, replan, house_store=house_store)
