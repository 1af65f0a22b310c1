"""The what-if report: cost, energy, deadlines, peaks, solve times and writes, as JSON.

Cost is the site's grid bill over the period (import at the consumer price, export at the
feed-in price), house load included. `cost_adjusted_eur` subtracts the change of the
energy in the home battery and the energy charged into cars that have not left by the
end, at the lowest consumer price of the day after the period: what storing that energy
would at least have cost then. A strategy cannot look cheaper by ending with an empty
battery (it pays the refill), energy it stored for after the period is not lost, and
filling up at the period's end gains only where the end beats the next day. (Valued at the
period's mean price instead, perfect foresight bought cheap energy on the last evening
to be credited at the mean: a saving no strategy makes, since none knows the period ends.)
`cost_served_eur` adds the energy cars left without, at the period's highest price: what
serving every departure would at least have cost. Strategies that serve differently
compare on it. Energies are AC at the wallbox. A stay is a car's time between arrival
and departure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from smartload.planner import Plan, PlannerInput
from smartload.planner.solve import GAP_FLOOR_EUR
from smartload.sinks.evcc_keys import WRITE_KINDS
from smartload.timefmt import iso
from smartload.whatif.evcc_port import utc
from smartload.whatif.metrics import MISS_TOLERANCE_KWH, REACHED_MARGIN_PCT, Stay, requested_ac_kwh

if TYPE_CHECKING:
    from smartload.whatif.runner import SimulationConfig
    from smartload.whatif.strategies.base import Outcome, RunContext, RunInputs


SHIPPED_PRICES = "shipped: day-ahead DE-LU 2024, Bundesnetzagentur | SMARD.de, CC BY 4.0"


@dataclass(frozen=True)
class PeriodPrices:
    """Consumer prices in EUR/kWh: the period's mean and highest, and what a kWh left
    stored at its end is worth (the lowest price of the day after)."""

    mean: float
    stored: float
    highest: float


@dataclass(frozen=True)
class StayResult:
    id: str
    vehicle: str
    arrival: str
    departure: str | None
    requested_kwh: float
    delivered_kwh: float
    shortfall_kwh: float

    @property
    def departed(self) -> bool:
        return self.departure is not None

    @property
    def missed(self) -> bool:
        return self.departed and self.shortfall_kwh > MISS_TOLERANCE_KWH

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "vehicle": self.vehicle, "arrival": self.arrival, "departure": self.departure,
                "requested_kwh": round(self.requested_kwh, 3), "delivered_kwh": round(self.delivered_kwh, 3),
                "shortfall_kwh": round(self.shortfall_kwh, 3), "missed": self.missed}


def _iso(t: float) -> str:
    return iso(utc(t))


def from_stay(stay: Stay) -> StayResult:
    return StayResult(stay.id, stay.vehicle, _iso(stay.arrival),
                      None if stay.departure is None else _iso(stay.departure),
                      stay.requested_kwh, stay.delivered_kwh, stay.shortfall_kwh)


def percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "p50": None, "p95": None, "max": None}
    array = np.asarray(values)
    return {"count": len(values), "p50": round(float(np.percentile(array, 50)), 4),
            "p95": round(float(np.percentile(array, 95)), 4), "max": round(float(array.max()), 4)}


def _header(config: SimulationConfig, inputs: RunInputs) -> dict[str, Any]:
    data: dict[str, Any] = {"prices": str(config.prices_csv) if config.prices_csv else SHIPPED_PRICES}
    if inputs.sessions is not None:
        plan = inputs.sessions
        data.update({
            "sessions": str(config.sessions_csv), "sessions_source_start": plan.source_start.isoformat(),
            "stations": list(plan.stations), "session_count": len(plan.sessions),
            "dropped_overlapping": plan.dropped_overlapping, "capped_requests": plan.capped_requests,
            "clamped_announcements": plan.clamped_announcements,
        })
    planning = inputs.settings.planning
    return {
        "format": "smartload-whatif", "version": 1,
        "strategy": config.strategy,
        "scenario": inputs.scenario_label,
        "period": {"start": inputs.start.isoformat(), "end": inputs.end.isoformat(), "days": config.days,
                   "timezone": inputs.scenario.timezone},
        "data": data,
        "run": {"seed": config.seed, "poll_interval_s": config.poll.total_seconds(), "step_s": config.step_s,
                "planner_time_limit_s": planning.time_limit.total_seconds(),
                "grid_limit_kw": config.grid_limit_kw, "chargers": config.chargers if inputs.sessions else None,
                "early_share": config.early_share if inputs.sessions else None,
                "early_by_s": config.early_by.total_seconds() if inputs.sessions else None,
                "learned_before": inputs.learned.record() if inputs.learned is not None else None,
                "pv_forecast_error": None if inputs.sessions else inputs.scenario.pv.forecast_error},
    }


def _summary(stays: list[StayResult], delivered_kwh: float, cost: float, battery_delta_kwh: float,
             prices: PeriodPrices) -> dict[str, Any]:
    departed = [s for s in stays if s.departed]
    requested = sum(s.requested_kwh for s in departed)
    by_departure = sum(min(s.delivered_kwh, s.requested_kwh) for s in departed)
    in_open_stays = sum(s.delivered_kwh for s in stays if not s.departed)
    shortfall = sum(s.shortfall_kwh for s in departed)
    adjusted = cost - prices.stored * (battery_delta_kwh + in_open_stays)
    return {
        "cost_eur": round(cost, 4),
        "cost_adjusted_eur": round(adjusted, 4),
        "cost_served_eur": round(adjusted + prices.highest * shortfall, 4),
        "prices_eur_per_kwh": {"mean": round(prices.mean, 5), "stored": round(prices.stored, 5),
                               "highest": round(prices.highest, 5)},
        "energy_in_open_stays_kwh": round(in_open_stays, 3),
        "cost_per_kwh_eur": round(adjusted / delivered_kwh, 4) if delivered_kwh > 0 else None,
        "energy_delivered_kwh": round(delivered_kwh, 3),
        "energy_requested_kwh": round(requested, 3),
        "energy_delivered_by_departure_kwh": round(by_departure, 3),
        "shortfall_kwh": round(shortfall, 3),
        "deadline_misses": sum(1 for s in departed if s.missed),
        "stays_departed": len(departed),
        "stays_open_at_end": len(stays) - len(departed),
    }


# How each strategy itself values what it leaves at the end (the report values it alike for all).
_END_RULES = {
    "optimal": "plans the whole period at once and values what it leaves at the end as the report does "
               "(stored price, a kWh in the battery and a kWh put into a car still at home alike): it knows "
               "the period ends, and cars still at home must have by then what they cannot get after it",
    "uncontrolled": "evcc: no value at the end; the battery follows its own rules",
    "greedy": "evcc's planner: no value at the end; the battery follows its own rules",
}
_SMARTLOAD_HORIZON = ("plans a rolling horizon to where evcc's prices end (up to 36 h) and never knows the period "
                      "ends, so what it leaves at the period's end is what its last plan wanted at that hour; ")
_SMARTLOAD_EXPECTED = ("its planner values what is left at each horizon's end by what it saves on the expected day "
                       "after (the horizon's last day repeated: prices, PV, house load): a kWh in the battery at "
                       "the price of the expected deficit it covers x discharge efficiency - wear (or a cheaper "
                       "refill before it), where the next day's PV would fill the battery at what that PV would "
                       "fetch in the grid; a kWh put into a car leaving after the horizon at the cheapest "
                       "expected price until it leaves / charge efficiency (the {q:.0%} quantile of the "
                       "horizon's import prices for times of day the horizon does not reach)")
_SMARTLOAD_QUANTILE = ("its planner values a kWh left in the battery at the horizon's end at discharge efficiency x "
                       "the {q:.0%} quantile of the horizon's import prices - wear, and a kWh put into a car leaving "
                       "after the horizon beyond what it needs by then at that quantile / charge efficiency")


def end_valuation(strategy: str, battery_delta_kwh: float, in_open_stays_kwh: float,
                  prices: PeriodPrices, expected_end_value: bool = False) -> dict[str, Any]:
    """How the end of the period is valued: by the report (the same for every strategy)
    and by the strategy's own planning, with the energy and credit involved.
    expected_end_value: smartload's planning.expected_end_value."""
    from smartload.planner import PlannerSettings

    q = PlannerSettings().terminal_price_quantile
    if strategy == "smartload":
        rule = _SMARTLOAD_HORIZON + (_SMARTLOAD_EXPECTED if expected_end_value else _SMARTLOAD_QUANTILE).format(q=q)
    else:
        rule = _END_RULES.get(strategy, "no value at the end")
    return {"end_valuation": {
        "report": "energy added to the home battery over the period (kWh stored) and energy put into cars "
                  "still at home (kWh at the wallbox), credited at the lowest consumer price of the day after "
                  "the period (stored); the same rule for every strategy, and the optimum plans against it",
        "strategy": rule,
        "stored_eur_per_kwh": round(prices.stored, 5),
        "battery_delta_kwh": round(battery_delta_kwh, 3),
        "in_open_stays_kwh": round(in_open_stays_kwh, 3),
        "credit_eur": round(prices.stored * (battery_delta_kwh + in_open_stays_kwh), 4),
    }}


def writes_by_kind(outcome: Outcome, ctx: RunContext) -> dict[str, Any]:
    """evcc writes by kind (change, keepalive, restore), in all and per local day. A
    strategy that does not say counts every accepted write as a change."""
    tz = ctx.inputs.scenario.tz
    kinds = {kind: 0 for kind in WRITE_KINDS}
    days: dict[str, dict[str, int]] = {}
    if not outcome.writes:
        kinds["change"] = ctx.port.writes
        return {"evcc_writes_by_kind": kinds, "evcc_writes_by_day": {}}
    for at, kind in outcome.writes:
        kinds[kind] += 1
        day = days.setdefault(at.astimezone(tz).date().isoformat(), {k: 0 for k in WRITE_KINDS})
        day[kind] += 1
    return {"evcc_writes_by_kind": kinds, "evcc_writes_by_day": days}


def evcc_report(config: SimulationConfig, ctx: RunContext, outcome: Outcome,
                prices: PeriodPrices) -> dict[str, Any]:
    site, meter = ctx.site, ctx.meter
    totals = site.totals
    end_kwh = site.battery.energy_wh / 1000.0 if site.battery else 0.0
    stays = [from_stay(s) for s in ctx.book.stays]
    report = _header(config, ctx.inputs)
    report.update(_summary(stays, totals.loadpoints_wh / 1000.0, totals.cost_eur, end_kwh - meter.battery_start_kwh,
                           prices))
    report.update(end_valuation(config.strategy, end_kwh - meter.battery_start_kwh,
                                report["energy_in_open_stays_kwh"], prices,
                                ctx.inputs.settings.planning.expected_end_value))
    report.update({
        "peak_import_kw": round(meter.peak_import_w / 1000.0, 3),
        "peak_import_15min_kw": round(meter.peak_import_15min_w / 1000.0, 3),
        "grid": {"import_kwh": totals.import_wh / 1000.0, "export_kwh": totals.export_wh / 1000.0,
                 "pv_kwh": totals.pv_wh / 1000.0, "house_kwh": totals.house_wh / 1000.0,
                 "battery_charge_kwh": totals.charge_wh / 1000.0, "battery_discharge_kwh": totals.discharge_wh / 1000.0,
                 "cars_kwh": totals.loadpoints_wh / 1000.0},
        "battery": {"start_kwh": round(meter.battery_start_kwh, 3), "end_kwh": round(end_kwh, 3)},
        "plan_solve_time_s": percentiles(outcome.solve_times_s),
        "plan_solve_times_s": [round(t, 4) for t in outcome.solve_times_s],
        "plan_status": dict(sorted(outcome.statuses.items())),
        "evcc_writes": ctx.port.writes,
        "evcc_writes_refused": ctx.port.rejected_writes,
        **writes_by_kind(outcome, ctx),
        "overrides": outcome.overrides,
        "evcc_not_applied": outcome.not_applied,
        "polls": ctx.port.polls,
        "strategy_details": outcome.extra,
        "notes": outcome.notes,
        "stays": [s.record() for s in stays],
    })
    return report


def optimal_report(config: SimulationConfig, inputs: RunInputs, planner_input: PlannerInput, plan: Plan,
                   prices: PeriodPrices, vehicles: dict[str, str]) -> dict[str, Any]:
    end = inputs.end
    stays: list[StayResult] = []
    for car in planner_input.cars:
        result = plan.cars.get(car.name)
        eta = car.charge_efficiency
        departed = car.departure is not None and car.departure <= end
        # Requested to the full target, as for every strategy; planned to within the margin.
        need_ac = requested_ac_kwh(car.soc_pct or 0.0, car.target_soc_pct + REACHED_MARGIN_PCT, car.capacity_kwh, eta)
        shortfall = (result.shortfall_kwh / eta if result else car.need_kwh / eta) if departed else 0.0
        stays.append(StayResult(
            car.name, vehicles[car.name], _iso((car.available_from or planner_input.now).timestamp()),
            _iso(car.departure.timestamp()) if departed and car.departure is not None else None,
            need_ac, result.energy_charged_kwh if result else 0.0, shortfall,
        ))
    slots = plan.slots
    bat = planner_input.battery
    start_kwh = bat.soc_pct / 100.0 * bat.capacity_kwh if bat else 0.0
    end_kwh = (slots[-1].battery_soc_pct or 0.0) / 100.0 * bat.capacity_kwh if bat and slots else start_kwh
    delivered = sum(s.delivered_kwh for s in stays)
    report = _header(config, inputs)
    report.update(_summary(stays, delivered, plan.cost_eur, end_kwh - start_kwh, prices))
    report.update(end_valuation(config.strategy, end_kwh - start_kwh, report["energy_in_open_stays_kwh"], prices))
    peak = max((s.grid_import_w for s in slots), default=0.0)
    report.update({
        "peak_import_kw": round(peak / 1000.0, 3),
        "peak_import_15min_kw": round(peak / 1000.0, 3),
        "grid": {name: sum(getattr(s, field) * s.duration_h for s in slots) / 1000.0 for name, field in (
            ("import_kwh", "grid_import_w"), ("export_kwh", "grid_export_w"), ("pv_kwh", "pv_w"),
            ("house_kwh", "house_w"), ("battery_charge_kwh", "battery_charge_w"),
            ("battery_discharge_kwh", "battery_discharge_w"))} | {"cars_kwh": delivered},
        "battery": {"start_kwh": round(start_kwh, 3), "end_kwh": round(end_kwh, 3)},
        "plan_solve_time_s": percentiles([plan.solve_time_s]),
        "plan_status": {plan.status: 1},
        "optimal": {"method": "one plan over the whole period (pure planner, perfect foresight)",
                    "status": plan.status, "gap": plan.gap, "objective_eur": round(plan.objective_eur, 4),
                    # The proven bound: no schedule of this model costs less than the plan by more.
                    # (plan.gap is on energy cost: planner/solve.py, energy_gap)
                    "gap_eur": round((plan.gap or 0.0) * max(abs(plan.cost_eur), GAP_FLOOR_EUR), 4),
                    "slots": len(slots), "cars": len(planner_input.cars),
                    "time_limit_s": inputs.optimal_time_limit_s, "total_time_s": round(plan.total_time_s, 3)},
        "evcc_writes": 0,
        "stays": [s.record() for s in stays],
    })
    return report
