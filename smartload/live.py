"""The live read model and the control API that the web API, MQTT and tests share.

LiveView keeps the latest of everything a person looks at (evcc's state, each car's SoC,
requests, the plan, the actuator's settings, health, recent events). Controls is the one
way to change what smartload does: add or cancel a request, boost, enter a SoC, ask for a
refresh. Both are plain Python; the adapters on top handle transport and auth.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from reactivex import Observable
from reactivex.abc import DisposableBase, SchedulerBase
from reactivex.disposable import CompositeDisposable
from reactivex.subject import Subject

from smartload.domain import NO_LOADPOINT, ConnectionEdge, PollError, SiteState, Snapshot, SocReading, Tariffs
from smartload.events import Event, EventBus
from smartload.graph import Graph
from smartload.requests import ChargeRequest, check_request
from smartload.settings import Settings
from smartload.sinks.planning import PlanMade, PlanningSink
from smartload.streams.soc import SocTable

if TYPE_CHECKING:
    from smartload.planner import Plan, PlanStatus

RECENT_EVENTS = 200


@dataclass
class Health:
    evcc_reachable: bool = False
    last_poll_at: datetime | None = None
    last_error: PollError | None = None
    last_tick_at: datetime | None = None
    last_plan_at: datetime | None = None
    last_plan_status: PlanStatus | None = None
    last_solve_s: float | None = None


@dataclass
class LiveView:
    settings: Settings
    state: SiteState | None = None
    socs: SocTable = field(default_factory=dict)
    tariffs: Tariffs = field(default_factory=Tariffs)
    plan: Plan | None = None
    # The SoCs the current plan started from (a car missing here was planned from a guess).
    plan_socs: SocTable = field(default_factory=dict)
    snapshot: Snapshot | None = None
    health: Health = field(default_factory=Health)
    events: deque[Event] = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))

    def attach(self, graph: Graph, plans: Observable[PlanMade], bus: EventBus,
               scheduler: SchedulerBase) -> DisposableBase:
        def on_state(state: SiteState) -> None:
            self.state = state
            self.health.evcc_reachable, self.health.last_poll_at = True, state.at

        def on_error(error: PollError) -> None:
            self.health.last_error = error
            if error.kind != "parse":
                self.health.evcc_reachable = False

        def on_snapshot(snapshot: Snapshot) -> None:
            self.snapshot = snapshot
            if snapshot.reason == "tick":
                self.health.last_tick_at = snapshot.at

        def on_plan(made: PlanMade) -> None:
            plan = self.plan = made.plan
            self.plan_socs = made.snapshot.socs
            self.health.last_plan_at = made.snapshot.at
            self.health.last_plan_status, self.health.last_solve_s = plan.status, plan.solve_time_s

        def on_socs(socs: SocTable) -> None:
            self.socs = socs

        def on_tariffs(tariffs: Tariffs) -> None:
            self.tariffs = tariffs

        return CompositeDisposable(
            plans.subscribe(on_plan, scheduler=scheduler),
            graph.states.subscribe(on_state, scheduler=scheduler),
            graph.errors.subscribe(on_error, scheduler=scheduler),
            graph.snapshots.subscribe(on_snapshot, scheduler=scheduler),
            graph.socs.subscribe(on_socs, scheduler=scheduler),
            graph.tariffs.subscribe(on_tariffs, scheduler=scheduler),
            bus.stream.subscribe(self.events.append, scheduler=scheduler),
        )


class Controls:
    """What a person may ask of smartload. Raises KeyError for an unknown vehicle and
    ValueError for a bad value, with a message naming the field; a rejected call changes
    nothing (every check runs before anything is stored or sent)."""

    # A clock a little ahead of ours is no reason to refuse a reading; one from further
    # ahead, or from over a week ago, is a typo (and year 1 or 9999 overflowed later).
    SOC_CLOCK_SKEW: ClassVar[timedelta] = timedelta(minutes=2)
    SOC_MAX_AGE: ClassVar[timedelta] = timedelta(days=7)

    def __init__(self, settings: Settings, planning: PlanningSink, scheduler: SchedulerBase, bus: EventBus) -> None:
        self._settings = settings
        self._planning = planning
        self._scheduler = scheduler
        self._bus = bus
        self.refresh_requests: Subject[ConnectionEdge] = Subject()
        self.manual_socs: Subject[SocReading] = Subject()

    @property
    def now(self) -> datetime:
        return self._scheduler.now

    def _vehicle(self, vehicle: str) -> None:
        if vehicle not in self._settings.vehicles:
            raise KeyError(f"vehicle: unknown vehicle {vehicle[:64]!r}")

    def add_request(self, request: ChargeRequest) -> ChargeRequest:
        """Store a request within settings.types.REQUEST_* bounds (see check_request)."""
        self._vehicle(request.vehicle)
        check_request(request, self.now)
        request = replace(request, departure=request.departure.astimezone(UTC))
        stored = self._planning.sequencer.add_request(request, self.now)
        what = f"{request.target_soc_pct:.0f} %" if request.target_soc_pct is not None else f"{request.energy_kwh} kWh"
        by = request.departure.astimezone(self._settings.site.tz).strftime("%a %H:%M")
        self._bus.publish(Event(self.now, "request", f"{request.vehicle}: {what} by {by}", request.vehicle))
        self._planning.replan(self.now, f"request for {request.vehicle}")
        return stored

    def cancel_request(self, vehicle: str) -> bool:
        self._vehicle(vehicle)
        cancelled = self._planning.sequencer.cancel_request(vehicle, self.now)
        if cancelled:
            self._bus.publish(Event(self.now, "request", f"{vehicle}: request cancelled", vehicle))
            self._planning.replan(self.now, f"request of {vehicle} cancelled")
        return cancelled

    def boost(self, vehicle: str, minutes: int) -> datetime:
        self._vehicle(vehicle)
        if not 1 <= minutes <= 24 * 60:
            raise ValueError("minutes: must be between 1 and 1440")
        until = self.now + timedelta(minutes=minutes)
        self._planning.sequencer.start_boost(vehicle, until)
        self._bus.publish(Event(self.now, "boost", f"{vehicle}: full power for {minutes} min", vehicle))
        self._planning.replan(self.now, f"boost {vehicle}")
        return until

    def set_soc(self, vehicle: str, soc_pct: float, measured_at: datetime | None = None) -> SocReading:
        self._vehicle(vehicle)
        if not 0 <= soc_pct <= 100:  # NaN fails too
            raise ValueError("soc_pct: must be between 0 and 100")
        now = self.now
        at = now if measured_at is None else measured_at
        if at.utcoffset() is None:
            raise ValueError("measured_at: needs a time zone")
        # Aware datetimes subtract without overflow even at year 1 or 9999.
        if at - now > self.SOC_CLOCK_SKEW:
            raise ValueError("measured_at: lies in the future")
        if now - at > self.SOC_MAX_AGE:
            raise ValueError(f"measured_at: lies more than {self.SOC_MAX_AGE.days} days back")
        reading = SocReading(vehicle, float(soc_pct), "manual", min(at, now).astimezone(UTC), now)
        self.manual_socs.on_next(reading)
        self._bus.publish(Event(now, "refresh", f"{vehicle}: SoC {soc_pct:.0f} % entered by hand", vehicle))
        return reading

    def refresh(self, vehicle: str) -> None:
        """Ask the car's cloud now; the refresh throttle and budgets still apply."""
        self._vehicle(vehicle)
        plugged = self._planning.last_state
        lp_id = next((lp.id for lp in plugged.loadpoints if lp.identified_vehicle == self._settings.evcc_name(vehicle)),
                     NO_LOADPOINT) if plugged else NO_LOADPOINT
        self.refresh_requests.on_next(ConnectionEdge(vehicle, lp_id, self.now, self.now, "manual"))
