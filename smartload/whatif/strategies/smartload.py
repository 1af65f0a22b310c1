"""smartload: the real pipeline and planner, in virtual time against the in-process evcc.

The system is the live service's (compose.py) with other ports: a poll source on a
HistoricalScheduler reads the port every poll interval (the site first moves to the
scheduler's time), and each actuator write is applied to the site at once and answered.
Prices reach the planner only as evcc publishes them (the auction's 13:00 horizon), the
PV forecast is evcc's, and the drivers announce their departures: the household's by its
weekly schedule in settings, an ACN driver through the sequencer's Python API two
minutes after arriving. A person follows every handoff
("plug in X by T"): at T, or the swap delay after being told if T is sooner.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import ObserverBase, SchedulerBase
from reactivex.disposable import CompositeDisposable, Disposable
from reactivex.scheduler import HistoricalScheduler

from smartload.compose import Ports, answered, compose
from smartload.domain import RawPoll, SocReading
from smartload.evcc.state import StateParser
from smartload.planner import Plan, PlannerInput, PlannerSettings, make_plan
from smartload.recording.records import not_applied_record, override_record
from smartload.requests import ChargeRequest
from smartload.sim.site import Site
from smartload.sim.vehicle import Presence
from smartload.sinks.evcc_keys import WriteKind
from smartload.sinks.planning import PlanMade
from smartload.sinks.sequencer import Handoff
from smartload.sinks.solver import InlineSolver
from smartload.store.database import Database
from smartload.store.habits import HabitStore
from smartload.store.house import HouseProfileStore
from smartload.store.requests import RequestStore
from smartload.streams.polling import parsed, poll_source
from smartload.timefmt import parse_iso
from smartload.vehicles.base import ProviderError, VehicleProvider
from smartload.vehicles.evcc import EvccProvider
from smartload.vehicles.registry import EvccSocBook
from smartload.whatif.evcc_port import EvccPort, utc
from smartload.whatif.sessions import Session
from smartload.whatif.strategies.base import Outcome, RunContext, drive_sessions

ANNOUNCE_AFTER = timedelta(minutes=2)


class SiteCloud:
    """A car maker's cloud as the simulator plays it (staleness, daily limit, latency),
    asked in-process: the household's cars are configured with these in settings.yaml."""

    name = "sim-cloud"

    def __init__(self, port: EvccPort) -> None:
        self._port = port

    def fetch(self, vehicle: str) -> Observable[SocReading]:
        def call(scheduler: SchedulerBase | None) -> Observable[SocReading]:
            assert scheduler is not None, "the simulated cloud answers in virtual time"
            self._port.sync(scheduler.now)
            answer = self._port.site.vehicle(vehicle).cloud.request(self._port.site.t)

            def respond(_: int) -> SocReading:
                if answer.status != 200:
                    raise ProviderError(f"{self.name}: HTTP {answer.status} {answer.body.get('error')}",
                                        retry_after_s=answer.retry_after_s)
                measured = parse_iso(str(answer.body["measured_at"]))
                return SocReading(vehicle, float(answer.body["soc"]), self.name, measured,
                                  scheduler.now)

            return rx.timer(answer.delay_s).pipe(ops.map(respond))

        return rx.defer(call)


def _solve_with_mode(planner_input: PlannerInput, settings: PlannerSettings, mode: str) -> Plan:
    return make_plan(planner_input, replace(settings, mode=mode))


def _poll(port: EvccPort, scheduler: HistoricalScheduler) -> Observable[RawPoll]:
    def subscribe(observer: ObserverBase[RawPoll], _: SchedulerBase | None = None) -> Disposable:
        now = scheduler.now
        port.sync(now)
        observer.on_next(RawPoll(now, body=port.state_body()))
        observer.on_completed()
        return Disposable()

    return rx.create(subscribe)


class HandoffFollower:
    """The person at the wallbox: does what the latest handoff for each wallbox says."""

    def __init__(self, port: EvccPort, delay: timedelta) -> None:
        self._port = port
        self._delay = delay
        self._latest: dict[int, Handoff] = {}
        self.followed = 0
        self.impossible = 0

    def __call__(self, handoff: Handoff) -> None:
        self._latest[handoff.wallbox_id] = handoff
        self._port.at(max(handoff.by, handoff.at + self._delay), lambda site: self._do(site, handoff))

    def _do(self, site: Site, handoff: Handoff) -> None:
        if self._latest.get(handoff.wallbox_id) is not handoff:
            return
        v = site.vehicle(handoff.vehicle)
        if v.presence is Presence.HOME:
            site.hand_over(handoff.wallbox_id, handoff.vehicle)
            self.followed += 1
        elif v.presence is Presence.AWAY:
            self.impossible += 1


def run(ctx: RunContext) -> Outcome:
    outcome = Outcome()
    inputs = ctx.inputs
    settings = inputs.settings
    port = ctx.port
    scheduler = HistoricalScheduler(initial_clock=inputs.start)
    db = Database.open(Path(":memory:"))
    store = RequestStore(db)
    # What an installation that ran before the period had learned, restored as at a restart.
    house, habits = None, None
    if inputs.learned is not None:
        house, habits = HouseProfileStore(db), HabitStore(db)
        house.save(inputs.learned.house)
        habits.save(inputs.learned.habits)

    def providers(book: EvccSocBook) -> dict[str, VehicleProvider]:
        if inputs.sessions is None:
            return dict.fromkeys(settings.vehicles, SiteCloud(port))
        return dict.fromkeys(settings.vehicles, EvccProvider(book.lookup))

    raw = poll_source(lambda: _poll(port, scheduler), settings.evcc.poll_interval, settings.evcc.outage_backoff_max)
    mode = inputs.planner_mode
    solver = None if mode == "milp" else InlineSolver(partial(_solve_with_mode, mode=mode))
    system = compose(settings, Ports(
        scheduler=scheduler, polls=parsed(raw, StateParser().parse_state),
        write=lambda write: answered(port.write(write.method, write.path)), requests=store,
        providers=providers, solver=solver, house=house, habits=habits))
    planning = system.planning
    follower = HandoffFollower(port, timedelta(seconds=inputs.scenario.swap_delay_s))

    def on_plan(made: PlanMade) -> None:
        outcome.solve_times_s.append(made.plan.solve_time_s)
        outcome.count_status(made.plan.status)

    writes: list[tuple[datetime, WriteKind]] = []
    watching = CompositeDisposable(
        system.handoffs.subscribe(follower),
        system.plans.subscribe(on_plan),
        system.writes.subscribe(lambda w: writes.append((w.at, w.write.kind))),
    )

    def announce(session: Session, _: Site) -> None:
        plan = inputs.sessions
        assert plan is not None
        vehicle = plan.vehicle(session)

        def tell(site: Site) -> None:
            if site.vehicle(vehicle).loadpoint_id is None:
                return
            now = utc(site.t)
            planning.sequencer.add_request(
                ChargeRequest(vehicle, session.announced_departure, target_soc_pct=inputs.targets[vehicle],
                              source="driver"), now)
            planning.replan(now, f"new request for {vehicle}")

        port.at(session.arrival + ANNOUNCE_AFTER, tell)

    drive_sessions(ctx, announce)
    try:
        scheduler.advance_to(inputs.end)
        port.sync(inputs.end)
    finally:
        watching.dispose()
        system.dispose()
        db.close()
    outcome.extra.update({
        "handoffs": len(planning.handoffs), "handoffs_followed": follower.followed,
        "handoffs_car_away": follower.impossible, "overrides": len(planning.actuator.overrides),
        "requests_ended": len(planning.ended),
    })
    outcome.writes = writes
    outcome.overrides = [override_record(o) for o in planning.actuator.overrides]
    outcome.not_applied = [not_applied_record(n) for n in planning.actuator.not_applied]
    return outcome
