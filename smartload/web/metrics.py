"""Prometheus metrics, read from the live view at each scrape (own registry, no globals).

Counters come from the event log: evcc writes by result, errors by where they arose and the
SoC refreshes each car made today (against smartload's own daily refresh budget). Where a
vehicle provider keeps a cloud call budget, what is left of it today is shown too. The
site's gauges (each loadpoint's power, the battery, the current prices) are evcc's last
poll as smartload read it; the process_* metrics are prometheus_client's process collector.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from smartload.domain import SiteState
from smartload.system import System
from smartload.web.tally import Tally


def site_metrics(state: SiteState | None) -> Iterator[Metric]:
    """evcc's last poll: each loadpoint's charge power, the battery and the prices now.
    A value evcc did not send is left out, not shown as 0."""
    power = GaugeMetricFamily("smartload_loadpoint_power_watts", "Charge power at the loadpoint",
                              labels=["loadpoint", "title"])
    connected = GaugeMetricFamily("smartload_loadpoint_connected", "1 while a car is plugged in",
                                  labels=["loadpoint", "title"])
    site = {"grid": GaugeMetricFamily("smartload_grid_power_watts", "Grid power (import > 0)"),
            "pv": GaugeMetricFamily("smartload_pv_power_watts", "PV power"),
            "home": GaugeMetricFamily("smartload_home_power_watts", "House consumption")}
    battery_soc = GaugeMetricFamily("smartload_battery_soc_percent", "Home battery SoC")
    battery_power = GaugeMetricFamily("smartload_battery_power_watts",
                                      "Home battery power (evcc's sign: discharging > 0, charging < 0)")
    price = GaugeMetricFamily("smartload_price_eur_per_kwh", "Price now (grid: import, feedin: export)",
                              labels=["tariff"])
    if state is not None:
        for lp in state.loadpoints:
            labels = [str(lp.id), lp.title]
            if lp.charge_power_w is not None:
                power.add_metric(labels, lp.charge_power_w)
            connected.add_metric(labels, int(lp.connected))
        for name, value in (("grid", state.grid_power_w), ("pv", state.pv_power_w), ("home", state.home_power_w)):
            if value is not None:
                site[name].add_metric([], value)
        battery = state.battery
        if battery is not None and battery.soc_pct is not None:
            battery_soc.add_metric([], battery.soc_pct)
        if battery is not None and battery.power_w is not None:
            battery_power.add_metric([], battery.power_w)
        for tariff, value in (("grid", state.tariff_grid), ("feedin", state.tariff_feedin)):
            if value is not None:
                price.add_metric([tariff], value)
    yield from (power, connected, *site.values(), battery_soc, battery_power, price)


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
        yield from site_metrics(live.state)
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
    ProcessCollector(registry=registry)  # process_* (CPU, memory, open files) from /proc on Linux
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
