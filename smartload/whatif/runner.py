"""A what-if run: build the site and smartload's settings for it, run one strategy, report.

Household runs take a scenario (cars on seeded trips); garage runs take ACN sessions on
K single-phase wallboxes. Both price their energy with the given day-ahead prices, in the
simulator's consumer tariff (day-ahead x (1 + VAT) + markup; fixed feed-in).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from loguru import logger

from smartload.settings import EvccProviderSettings, Settings, VehicleSettings
from smartload.sim.prices import SHIPPED_YEAR, shipped_path
from smartload.sim.scenario import Scenario, TariffSpec, Weekday, load_scenario
from smartload.sim.site import Site
from smartload.sim.vehicle import TAPER_FROM_SOC
from smartload.whatif.coverage import check_prices
from smartload.whatif.evcc_port import EvccPort
from smartload.whatif.history import learn_before
from smartload.whatif.household import announced_departures, target_soc_pct
from smartload.whatif.metrics import SiteMeter, StayBook
from smartload.whatif.report import PeriodPrices, evcc_report, optimal_report
from smartload.whatif.sessions import (
    SESSION_TARGET_PCT,
    default_source_start,
    garage_scenario,
    leave_earlier,
    plan_sessions,
    read_sessions,
    sessions_site,
)
from smartload.whatif.strategies import STRATEGIES
from smartload.whatif.strategies import optimal as optimal_strategy
from smartload.whatif.strategies.base import Outcome, RunContext, RunInputs


@dataclass(frozen=True)
class SimulationConfig:
    strategy: str
    start: date
    days: int
    prices_csv: Path | None = None
    scenario: str | None = None
    sessions_csv: Path | None = None
    chargers: int = 4
    sessions_from: date | None = None
    grid_limit_kw: float | None = None
    poll: timedelta = timedelta(seconds=60)
    step_s: float = 10.0
    seed: int = 1
    time_limit_s: float | None = None
    optimal_time_limit_s: float = 600.0
    # evcc reads a car's SoC when it identifies it (its source does); False: the simulator's
    # pessimistic default, the SoC of the last charge until charging starts.
    evcc_reads_soc_on_identify: bool = True
    # smartload's planner: "milp" (as the service runs it) or "relaxation" (LP relaxation and
    # repair only: deterministic whatever the machine's speed, for tests).
    planner_mode: str = "milp"
    # Hours the price table lacks are an error; True: the simulator's stand-in prices
    # them (same weekday 52 weeks earlier), with a warning and a note in the report.
    price_stand_ins: bool = False
    # Sessions only: this share of the drivers (drawn with the seed) leaves early_by sooner
    # than in the data, the departure they announce unchanged (sessions.leave_earlier).
    early_share: float = 0.0
    early_by: timedelta = timedelta(hours=2)
    # Household smartload runs: start with what the service would have learned in these
    # weeks before the period (house-load profile, driver habits; history.py). 0: a fresh
    # install, nothing learned.
    learned_weeks: int = 0
    # Scenario runs: the PV forecast misses each day's cloud level by this standard
    # deviation (the scenario's pv.forecast_error); None: as the scenario says.
    pv_forecast_error: float | None = None

    def __post_init__(self) -> None:
        if self.strategy not in (*STRATEGIES, "optimal"):
            raise ValueError(f"unknown strategy {self.strategy!r}")
        if (self.scenario is None) == (self.sessions_csv is None):
            raise ValueError("give a scenario or a sessions CSV")
        if self.days < 1:
            raise ValueError("days must be at least 1")
        if self.planner_mode not in ("milp", "relaxation"):
            raise ValueError(f"unknown planner mode {self.planner_mode!r}")
        if not 0.0 <= self.early_share <= 1.0:
            raise ValueError(f"early share must be in [0, 1], not {self.early_share}")
        if self.pv_forecast_error is not None and not 0.0 <= self.pv_forecast_error <= 1.0:
            raise ValueError(f"PV forecast error must be in [0, 1], not {self.pv_forecast_error}")
        if self.pv_forecast_error is not None and self.scenario is None:
            raise ValueError("a PV forecast error needs a scenario: ACN sessions have no PV")
        if self.early_share and self.sessions_csv is None:
            raise ValueError("an early share needs sessions (household drivers keep their trips)")
        if self.learned_weeks < 0:
            raise ValueError(f"learned weeks must be 0 or more, not {self.learned_weeks}")
        if self.learned_weeks and self.sessions_csv is not None:
            raise ValueError("a learned history is the household's (a garage's drivers are learned from requests)")


SWAP_GAP_S = 120.0
# How early a garage's drivers may leave before anything is learned. Caltech's claimed
# sessions at its 4 busiest stations, 2019-2021: 31 % left more than 4 h before the
# departure they gave, 26 % more than 6 h (95th percentile 9.9 h). With 4 h, a month whose
# last 100 drivers had all kept within 4.7 h planned a driver who left 6.7 h early on
# learned deadlines only and left him 11 kWh short where charging at once served him
# (acn4, 2023-04, 4 weeks); 8 h served him (0.14 % more cost that month, measured with a
# quarter of the drivers over 8 h).
FLEET_EARLY_MAX = timedelta(hours=8)
# ... and half of them leave early: as many per quarter-hour in the first 4 h as a quarter
# over 4 h gave (a driver leaving 45 minutes early keeps his protection), and the tail.
FLEET_EARLY_SHARE = 0.5
NO_DEPARTURES: dict[Weekday, str | None] = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


def derive_settings(base: Settings, scenario: Scenario, targets: dict[str, float],
                    announced: dict[str, dict[Weekday, str | None]], config: SimulationConfig) -> Settings:
    """smartload's settings for this site: its cars (capacity, power, target, departures
    as the drivers announce them, the simulator's taper), its battery as configured
    truthfully (its range the inverter's, as every strategy has it), the run's poll
    interval; a garage charges a car at once until its driver gives a departure
    (planning.charge_until_announced) and prices an early driver's missed kWh as a
    shortfall, from a cold start of drivers leaving up to FLEET_EARLY_MAX early (each
    unless the given settings set it); planning, refresh and control as in the given settings."""
    vehicles = {
        name: VehicleSettings(
            title=spec.title, capacity_kwh=spec.capacity_kwh, provider=EvccProviderSettings(),
            target_soc_pct=targets[name], departures=announced.get(name, NO_DEPARTURES),
            max_charge_w=spec.max_charge_w, charge_efficiency=spec.charge_efficiency, wallboxes=list(spec.loadpoints),
            taper_from_soc_pct=TAPER_FROM_SOC,
        )
        for name, spec in scenario.vehicles.items()
    }
    battery = base.battery.model_copy(update={"enabled": scenario.battery is not None})
    if scenario.battery is not None:
        spec = scenario.battery
        eta = math.sqrt(spec.round_trip_efficiency)
        battery = battery.model_copy(update={
            "max_charge_w": spec.max_charge_w, "max_discharge_w": spec.max_discharge_w,
            "charge_efficiency": eta, "discharge_efficiency": eta,
            # The site's usable range is the inverter's: evcc under every other strategy
            # (and the optimum) runs the battery down to it, so no outage reserve on top.
            "min_soc_pct": spec.min_soc_pct, "reserve_soc_pct": spec.min_soc_pct,
        })
    planning_update: dict[str, Any] = {}
    if config.time_limit_s is not None:
        planning_update["time_limit"] = timedelta(seconds=config.time_limit_s)
    if config.grid_limit_kw is not None:
        planning_update["grid_import_limit_w"] = config.grid_limit_kw * 1000.0
    if config.sessions_csv is not None:
        # A fleet: drivers give their departure after plugging in, some leave before they do.
        planning_update["charge_until_announced"] = True
        # ... and a driver who leaves with less than asked is short as one whose departure
        # came: the fleet's miss is worth the shortfall's penalty, and its cold start spreads
        # FLEET_EARLY_SHARE of the drivers over FLEET_EARLY_MAX (unless the settings say).
        fleet = {"early_departure_miss_eur_per_kwh": base.planning.shortfall_penalty_eur_per_kwh,
                 "early_departure_max": FLEET_EARLY_MAX, "early_departure_prior_share": FLEET_EARLY_SHARE}
        planning_update.update({k: v for k, v in fleet.items() if k not in base.planning.model_fields_set})
    return base.model_copy(update={
        "vehicles": vehicles,
        "battery": battery,
        "planning": base.planning.model_copy(update=planning_update),
        "evcc": base.evcc.model_copy(update={"poll_interval": config.poll}),
        "site": base.site.model_copy(update={"timezone": scenario.timezone}),
        "control": base.control.model_copy(update={"mode": "act"}),
    })


def prepare(config: SimulationConfig, base: Settings) -> RunInputs:
    sessions = None
    if config.sessions_csv is not None:
        tz_name = base.site.timezone
        limit_w = config.grid_limit_kw * 1000.0 if config.grid_limit_kw is not None else None
        every_session = read_sessions(config.sessions_csv)
        site = sessions_site(every_session, config.sessions_csv)
        scenario = garage_scenario(config.chargers, tz_name, TariffSpec(), limit_w, site)
        scenario = scenario.model_copy(update={"evcc_reads_soc_on_identify": config.evcc_reads_soc_on_identify})
        source = config.sessions_from or default_source_start(config.start)
        sessions = plan_sessions(every_session, source, config.start, config.days,
                                 config.chargers, ZoneInfo(tz_name))
        sessions = leave_earlier(sessions, config.early_share, config.early_by, config.seed)
        targets = dict.fromkeys(scenario.vehicles, SESSION_TARGET_PCT)
        announced: dict[str, dict[Weekday, str | None]] = {}
        label = f"ACN sessions at {site} on {config.chargers} chargers"
    else:
        assert config.scenario is not None
        scenario = load_scenario(config.scenario)
        # A plug swap takes a person a while, unless the scenario says how long (real_site's
        # instant swaps, which no poll sees: smartload must tell them from a person's change).
        gap = scenario.swap_gap_s if "swap_gap_s" in scenario.model_fields_set else max(scenario.swap_gap_s,
                                                                                          SWAP_GAP_S)
        update: dict[str, Any] = {"swap_gap_s": gap, "evcc_reads_soc_on_identify": config.evcc_reads_soc_on_identify}
        if config.grid_limit_kw is not None:
            update["circuit_max_power_w"] = config.grid_limit_kw * 1000.0
        if config.pv_forecast_error is not None:
            update["pv"] = scenario.pv.model_copy(update={"forecast_error": config.pv_forecast_error})
        scenario = scenario.model_copy(update=update)
        targets = {name: target_soc_pct(spec, base.planning.default_target_soc_pct)
                   for name, spec in scenario.vehicles.items()}
        announced = {name: announced_departures(spec) for name, spec in scenario.vehicles.items()}
        label = config.scenario
    start = datetime.combine(config.start, time(0), tzinfo=ZoneInfo(scenario.timezone))
    end = start + timedelta(days=config.days)
    settings = derive_settings(base, scenario, targets, announced, config)
    # Only smartload learns: every other strategy's run is the same either way.
    learned = learn_before(scenario, start, config.learned_weeks, config.seed, settings, targets, config.poll) \
        if config.learned_weeks and config.strategy == "smartload" else None
    return RunInputs(
        scenario=scenario, scenario_label=label, start=start, end=end, seed=config.seed,
        prices_csv=config.prices_csv or shipped_path(SHIPPED_YEAR), poll=config.poll, step_s=config.step_s,
        settings=settings, targets=targets,
        announced=announced, sessions=sessions, optimal_time_limit_s=config.optimal_time_limit_s,
        planner_mode=config.planner_mode, learned=learned,
    )


def make_site(inputs: RunInputs) -> Site:
    return Site(inputs.scenario, start=inputs.start, seed=inputs.seed, prices_csv=inputs.prices_csv)


def make_context(inputs: RunInputs) -> RunContext:
    """The site, the evcc port over it and the meters, at the period's start."""
    site = make_site(inputs)
    book = StayBook()
    meter = SiteMeter(site, book, inputs.targets, track_trips=inputs.sessions is None)
    port = EvccPort(site, step_s=inputs.step_s)
    port.observe(meter)
    return RunContext(inputs, site, port, book, meter)


def period_prices(site: Site, start: datetime, end: datetime) -> PeriodPrices:
    """The period's consumer prices (EUR/kWh): their mean and highest, and the lowest of the
    day after the period, which prices the energy a strategy leaves stored at the end."""
    t, prices = start.timestamp(), []
    while t < end.timestamp():
        prices.append(site.tariff.price_at(t))
        t += 900
    after = [site.tariff.price_at(end.timestamp() + 900 * i) for i in range(96)]
    return PeriodPrices(mean=sum(prices) / len(prices), stored=max(0.0, min(after)), highest=max(prices))


# The simulator narrates every plug-in, the planner every plan and the actuator every
# write: a month of that costs more than the simulation itself.
CHATTY = ("smartload.sim", "smartload.sinks.planning", "smartload.sinks.sequencer", "smartload.sinks.actuator",
          "smartload.recording.decision_log")


Progress = Callable[[float, datetime], None]


def simulate(config: SimulationConfig, base: Settings,
             strategy: Callable[[RunContext], Outcome] | None = None, quiet: bool = True,
             progress: Progress | None = None) -> dict[str, Any]:
    """Run one strategy over the period; returns the report (see report.py). Errors logged
    during the run (a failing sink, a parser bug) are counted in the report. `progress`
    hears the share of the period done (0..1) and the simulated time as the run goes."""
    errors: list[str] = []
    handler = logger.add(lambda message: errors.append(message.record["message"]), level="ERROR")
    if quiet:
        for name in CHATTY:
            logger.disable(name)
    try:
        report = _simulate(config, base, strategy, progress or _no_progress)
    finally:
        logger.remove(handler)
        for name in CHATTY:
            logger.enable(name)
    report["errors"] = errors
    return report


def _no_progress(done: float, at: datetime) -> None:
    pass


def _progress_observer(progress: Progress, start: datetime, end: datetime) -> Callable[[Site, float], None]:
    """Tells `progress` after every thousandth of the period: a month has ~260,000 physics steps."""
    start_s, span_s = start.timestamp(), end.timestamp() - start.timestamp()
    due = start_s

    def observe(site: Site, _dt: float) -> None:
        nonlocal due
        if site.t >= due or site.t >= start_s + span_s:
            progress((site.t - start_s) / span_s, site.now().astimezone(site.tz))
            due = site.t + span_s / 1000
    progress(0.0, start)
    return observe


def _prices_checked(config: SimulationConfig, inputs: RunInputs, site: Site) -> dict[str, Any] | None:
    """MissingPrices for hours the table lacks; with stand-ins allowed, a warning and the
    report's note of them."""
    source = str(config.prices_csv) if config.prices_csv else "the shipped price table"
    stand_ins = check_prices(site.tariff, inputs.start, inputs.end, source, config.price_stand_ins)
    if stand_ins is not None:
        logger.warning("price stand-ins: {}", stand_ins["warning"])
    return stand_ins


def _simulate(config: SimulationConfig, base: Settings,
              strategy: Callable[[RunContext], Outcome] | None, progress: Progress) -> dict[str, Any]:
    inputs = prepare(config, base)
    if config.strategy == "optimal":
        site = make_site(inputs)
        stand_ins = _prices_checked(config, inputs, site)
        prices = period_prices(site, inputs.start, inputs.end)
        progress(0.0, inputs.start)  # one solve over the whole period: no share done until it ends
        planner_input, plan = optimal_strategy.solve(inputs, site, prices.stored)
        progress(1.0, inputs.end)
        report = optimal_report(config, inputs, planner_input, plan, prices,
                                optimal_strategy.stay_vehicles(inputs, planner_input.cars))
    else:
        ctx = make_context(inputs)
        stand_ins = _prices_checked(config, inputs, ctx.site)
        prices = period_prices(ctx.site, inputs.start, inputs.end)
        ctx.port.observe(_progress_observer(progress, inputs.start, inputs.end))
        run = strategy or STRATEGIES[config.strategy]
        outcome = run(ctx)
        ctx.port.sync(inputs.end)
        ctx.meter.finish()
        report = evcc_report(config, ctx, outcome, prices)
    if stand_ins is not None:
        report["data"]["price_stand_ins"] = {key: stand_ins[key] for key in ("missing_hours", "missing", "days")}
    return report
