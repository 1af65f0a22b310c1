"""A System built from parts the test controls: a graph of Subjects, a virtual clock, a
planning sink over a temporary request store, and hand-made states and plans with round
figures, so the adapters' answers can be asserted exactly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from reactivex import operators as ops
from reactivex.disposable import CompositeDisposable
from reactivex.scheduler import HistoricalScheduler
from reactivex.subject import Subject

from smartload.domain import BatteryState, ChargeMode, LoadpointState, Rate, SiteState, Snapshot, SocReading, Tariffs
from smartload.events import EventBus
from smartload.graph import Graph
from smartload.history import attach_history
from smartload.live import Controls, LiveView
from smartload.planner import CarPlan, CarSlot, Explanation, Plan, PlanSlot
from smartload.settings import Settings
from smartload.sinks.actuator import Override, Write
from smartload.sinks.planning import PlanMade, make_planning
from smartload.store.database import Database
from smartload.store.history import HistoryStore
from smartload.store.requests import RequestStore
from smartload.system import System

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 2 March 2026, 20:00 in Berlin (CET).
NOW = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
TOKEN = "test-token-0123456789abcdef"


def settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings.model_validate({
        "data_dir": str(tmp_path),
        "web": {"token": TOKEN, "port": 0},
        "vehicles": {
            "zoe": {"title": "Renault Zoe", "capacity_kwh": 52, "target_soc_pct": 80},
            "ioniq": {"title": "Hyundai Ioniq 5", "capacity_kwh": 77, "usual_arrival": "17:45",
                      "usual_arrival_soc_pct": 40, "usual_departure": "07:10"},
        },
        **extra,
    })


@dataclass
class Parts:
    system: System
    clock: HistoricalScheduler
    graph: Graph
    subjects: dict[str, Subject[Any]]
    writes: list[Write]
    wiring: CompositeDisposable
    db: Database
    store: RequestStore

    def close(self) -> None:
        self.wiring.dispose()
        self.db.close()

    def advance(self, **delta: float) -> datetime:
        self.clock.advance_by(timedelta(**delta))
        return self.clock.now

    def push_state(self, state: SiteState) -> None:
        self.subjects["states"].on_next(state)
        self.system.planning.on_state(state)

    def push_socs(self, *readings: SocReading) -> None:
        self.subjects["socs"].on_next(MappingProxyType({r.vehicle: r for r in readings}))

    def push_plan(self, plan: Plan, reason: str = "tick") -> None:
        planning = self.system.planning
        planning.plan = plan
        snapshot = Snapshot(plan.created_at, self.system.live.state, self.system.live.socs, Tariffs(), reason)
        planning.planned.on_next(PlanMade(plan, snapshot))


def make_parts(config: Settings, with_history: bool = True) -> Parts:
    """A System around a graph of Subjects: what compose() builds, minus the streams that
    feed the graph, so each test pushes exactly the states, SoCs and plans it asserts on."""
    clock = HistoricalScheduler(NOW)
    subjects: dict[str, Subject[Any]] = {name: Subject() for name in Graph.__dataclass_fields__}
    graph = Graph(**subjects)
    db = Database.open(config.data_dir / "smartload.db")
    store = RequestStore(db)
    writes: list[Write] = []
    planning = make_planning(config, store)
    bus = EventBus()
    live = LiveView(config)
    wiring = CompositeDisposable(planning.actuator.outbox.subscribe(writes.append),
                                 live.attach(graph, planning.planned, bus, clock))
    controls = Controls(config, planning, clock, bus)
    history = HistoryStore(db, config.store.retention_days) if with_history else None
    notices = planning.actuator.notices
    system = System(settings=config, scheduler=clock, graph=graph, planning=planning, bus=bus, live=live,
                    controls=controls, plans=planning.planned, handoffs=planning.handed_off,
                    requests_ended=planning.request_ends, notices=notices,
                    overrides=notices.pipe(ops.filter(lambda n: isinstance(n, Override))),
                    writes=planning.actuator.observed, providers={}, history=history, subscription=wiring)
    wiring.add(attach_history(system))
    return Parts(system, clock, graph, subjects, writes, wiring, db, store)


def site_state(at: datetime = NOW, zoe_power_w: float = 11000.0, grid_w: float = 10500.0) -> SiteState:
    """zoe charging at loadpoint 1; the battery idle at 50 %."""
    garage = LoadpointState(
        id=1, title="Garage", mode=ChargeMode.NOW, connected=True, charging=zoe_power_w > 0, enabled=True,
        charge_power_w=zoe_power_w, vehicle_name="zoe", vehicle_soc_pct=40.0, limit_soc_pct=80.0,
        min_current_a=6.0, max_current_a=16.0, phases_configured=3, phases_active=3)
    return SiteState(at=at, version="0.315.0", currency="EUR", grid_power_w=grid_w, pv_power_w=0.0,
                     home_power_w=500.0, battery=BatteryState(power_w=0.0, soc_pct=50.0, capacity_kwh=10.0,
                                                              mode="normal"),
                     tariff_grid=0.30, tariff_feedin=0.08, loadpoints=(garage,))


def plan(at: datetime = NOW) -> Plan:
    """Four quarter-hours: zoe charges 11 kW in the first two, the battery charges in the
    third and discharges in the fourth."""
    prices = (0.30, 0.25, 0.20, 0.35)
    slots = []
    for i, price in enumerate(prices):
        start = at + timedelta(minutes=15 * i)
        zoe = CarSlot(1, 11000.0 if i < 2 else 0.0, 45.0 + 5 * min(i + 1, 2), 2.75 if i < 2 else 0.0)
        slots.append(PlanSlot(
            start=start, end=start + timedelta(minutes=15), import_eur_per_kwh=price, export_eur_per_kwh=0.08,
            pv_w=1000.0 * i, house_w=500.0, grid_import_w=10500.0 if i < 2 else (2000.0 if i == 2 else 0.0),
            grid_export_w=0.0, battery_charge_w=2500.0 if i == 2 else 0.0,
            battery_discharge_w=1000.0 if i == 3 else 0.0, battery_soc_pct=50.0,
            cars=MappingProxyType({"zoe": zoe}), reasons=MappingProxyType({"zoe": "cheapest slots"})))
    cars = {
        "zoe": CarPlan("zoe", at + timedelta(hours=11), 80.0, 55.0, 15.6, 13.0, 5.5, 5.0, 1.51,
                       "charges 5.5 kWh in the cheapest slots"),
        "ioniq": CarPlan("ioniq", at + timedelta(hours=11), 80.0, 20.0, 46.2, 46.2, 0.0, 0.0, 0.0,
                         "not plugged in"),
    }
    return Plan("optimal", at, 0.042, 0.05, 0.0, 12.0, 1.9625, tuple(slots), MappingProxyType(cars),
                (Explanation("zoe", None, "zoe: 5.5 kWh now for 1.51 EUR"),))


def zoe_reading(at: datetime = NOW, soc: float = 45.0, source: str = "zoe-cloud") -> SocReading:
    return SocReading("zoe", soc, source, at - timedelta(minutes=10), at)


def tariffs(at: datetime = NOW) -> Tariffs:
    return Tariffs(grid=(Rate(at, at + timedelta(hours=1), 0.30),), feedin=(Rate(at, at + timedelta(hours=1), 0.08),))
