"""Prometheus metrics, read from the live view at each scrape (own registry, no globals).

Counters come from the event log: evcc writes by result, errors by where they arose and the
SoC refreshes each car made today (against smartload's own daily refresh budget). Where a
vehicle provider keeps a cloud call budget, what is left of it today is shown too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from smartload.events import Event
from smartload.system import System
from smartload.timefmt import parse_iso

_CALLED = ("ok", "failed", "unsupported")  # refresh outcomes that spent a call of the budget


class Tally:
    """Counts what the event log reports."""

    def __init__(self, system: System) -> None:
        self._tz = system.settings.site.tz
        self.writes = {"ok": 0, "failed": 0}
        self.errors: dict[str, int] = {}
        self._refreshes: dict[str, tuple[date, int]] = {}

    def on_event(self, event: Event) -> None:
        data = event.data
        if event.kind == "write":
            self.writes["ok"] += 1
        elif event.kind == "error":
            where = "write" if "method" in data else "refresh" if "status" in data else "evcc"
            if where == "write":
                self.writes["failed"] += 1
            self.errors[where] = self.errors.get(where, 0) + 1
        elif event.kind == "outage" and "down_s" not in data:
            self.errors["outage"] = self.errors.get("outage", 0) + 1
        if event.vehicle is not None and data.get("status") in _CALLED and "requested_at" in data:
            day = parse_iso(str(data["requested_at"])).astimezone(self._tz).date()
            seen_day, count = self._refreshes.get(event.vehicle, (day, 0))
            self._refreshes[event.vehicle] = (day, count + 1 if seen_day == day else 1)

    def refreshes_today(self, vehicle: str, now: datetime) -> int:
        day, count = self._refreshes.get(vehicle, (None, 0))
        return count if day == now.astimezone(self._tz).date() else 0


class SmartloadCollector(Collector):
    def __init__(self, system: System, tally: Tally) -> None:
        self._system = system
        self._tally = tally

    def collect(self) -> Iterator[Metric]:
        system, live = self._system, self._system.live
        now, settings = system.now, system.settings
        soc = GaugeMetricFamily("smartload_vehicle_soc_percent", "Newest known SoC", labels=["vehicle", "source"])
        age = GaugeMetricFamily("smartload_vehicle_soc_age_seconds", "Age of the newest SoC", labels=["vehicle"])
        for vehicle, reading in sorted(live.socs.items()):
            soc.add_metric([vehicle, reading.source], reading.soc_pct)
            age.add_metric([vehicle], reading.age_s(now))
        yield from (soc, age)
        projected = GaugeMetricFamily("smartload_vehicle_projected_soc_percent", "SoC the plan reaches by departure",
                                      labels=["vehicle"])
        short = GaugeMetricFamily("smartload_vehicle_shortfall_kwh", "Energy the plan misses by departure",
                                  labels=["vehicle"])
        plan = live.plan
        for vehicle, car in sorted((plan.cars if plan else {}).items()):
            if car.final_soc_pct is not None:
                projected.add_metric([vehicle], car.final_soc_pct)
            short.add_metric([vehicle], car.shortfall_kwh)
        yield from (projected, short)
        if plan is not None:
            yield GaugeMetricFamily("smartload_plan_cost_eur", "Cost of the current plan", value=plan.cost_eur)
            yield GaugeMetricFamily("smartload_plan_solve_seconds", "Solver time of the current plan",
                                    value=plan.solve_time_s)
            status = GaugeMetricFamily("smartload_plan_status", "1 for the current plan's status", labels=["status"])
            status.add_metric([plan.status], 1)
            yield status
        health = live.health
        yield GaugeMetricFamily("smartload_evcc_reachable", "1 while evcc answers", value=int(health.evcc_reachable))
        if health.last_poll_at is not None:
            yield GaugeMetricFamily("smartload_last_poll_timestamp_seconds", "Time of the last good poll",
                                    value=health.last_poll_at.timestamp())
        writes = CounterMetricFamily("smartload_evcc_writes", "Writes sent to evcc", labels=["result"])
        for result, count in self._tally.writes.items():
            writes.add_metric([result], count)
        errors = CounterMetricFamily("smartload_errors", "Errors by where they arose", labels=["where"])
        for where, count in sorted(self._tally.errors.items()):
            errors.add_metric([where], count)
        yield from (writes, errors)
        refresh = GaugeMetricFamily("smartload_refresh_budget_remaining", "SoC refreshes left today (smartload)",
                                    labels=["vehicle"])
        for vehicle in settings.vehicles:
            _, budget = settings.refresh_for(vehicle)
            refresh.add_metric([vehicle], max(0, budget - self._tally.refreshes_today(vehicle, now)))
        yield refresh
        cloud = GaugeMetricFamily("smartload_cloud_budget_remaining", "Cloud calls left today (provider's budget)",
                                  labels=["vehicle", "provider"])
        for vehicle, call_budget in sorted(system.budgets().items()):
            provider = settings.vehicles[vehicle].provider.type if vehicle in settings.vehicles else "unknown"
            cloud.add_metric([vehicle, provider], max(0, call_budget.settings.daily_limit - call_budget.calls_today))
        yield cloud


def make_registry(system: System, tally: Tally) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SmartloadCollector(system, tally))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
