"""What every strategy gets (the run's site, evcc port, meters and inputs) and returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from smartload.settings import Settings
from smartload.sim.scenario import Scenario, Weekday
from smartload.sim.site import Site
from smartload.sinks.evcc_keys import WriteKind
from smartload.whatif.evcc_port import EvccPort
from smartload.whatif.history import Learned
from smartload.whatif.metrics import SiteMeter, StayBook
from smartload.whatif.sessions import Session, SessionPlan, arrival_soc_pct


@dataclass(frozen=True)
class RunInputs:
    """One what-if run. announced: vehicle -> weekday -> "HH:MM" (household drivers);
    sessions: the ACN sessions (garage runs). settings is smartload's, derived for this site."""

    scenario: Scenario
    scenario_label: str
    start: datetime
    end: datetime
    seed: int
    prices_csv: Path | None
    poll: timedelta
    step_s: float
    settings: Settings
    targets: dict[str, float]
    announced: dict[str, dict[Weekday, str | None]]
    sessions: SessionPlan | None = None
    optimal_time_limit_s: float = 600.0
    planner_mode: str = "milp"
    # What smartload starts with, learned before the period (None: nothing, a fresh install).
    learned: Learned | None = None


@dataclass
class RunContext:
    inputs: RunInputs
    site: Site
    port: EvccPort
    book: StayBook
    meter: SiteMeter


@dataclass
class Outcome:
    """What a strategy reports beyond the site's meters."""

    solve_times_s: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)
    # Each evcc write smartload made, with its kind (change, keepalive, restore); empty
    # for strategies whose writes are all changes (the port counts those).
    writes: list[tuple[datetime, WriteKind]] = field(default_factory=list)
    # Manual changes the actuator detected, and writes evcc did not apply (JSON records).
    overrides: list[dict[str, object]] = field(default_factory=list)
    not_applied: list[dict[str, object]] = field(default_factory=list)

    def count_status(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


ArrivalHook = Callable[[Session, Site], None]


def drive_sessions(ctx: RunContext, on_arrival: ArrivalHook | None = None) -> None:
    """Plug each ACN session's car in at its arrival and take it away at its departure."""
    plan = ctx.inputs.sessions
    if plan is None:
        return
    book = ctx.book
    for session in plan.sessions:
        vehicle, lp_id = plan.vehicle(session), plan.wallbox(session)

        def arrive(site: Site, s: Session = session, v: str = vehicle, lp: int = lp_id) -> None:
            site.arrive(v, lp, max(0.0, arrival_soc_pct(s.requested_kwh)))
            book.arrive(site, v, site.t, ctx.inputs.targets[v], stay_id=s.id)
            if on_arrival is not None:
                on_arrival(s, site)

        def leave(site: Site, v: str = vehicle) -> None:
            book.depart(site, v, site.t)
            site.leave(v)

        ctx.port.at(session.arrival, arrive)
        ctx.port.at(session.departure, leave)


def run_polls(ctx: RunContext, on_poll: Callable[[datetime], None]) -> None:
    """The loop of a strategy that is evcc itself plus a few writes: every poll interval
    the site moves on and the strategy looks at it."""
    now, end, poll = ctx.inputs.start, ctx.inputs.end, ctx.inputs.poll
    on_poll(now)
    while now < end:
        now = min(now + poll, end)
        ctx.port.sync(now)
        on_poll(now)
