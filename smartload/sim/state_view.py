"""The model as evcc's GET /api/state shows it, in the current layout (0.314+).

Encoding follows evcc's encoder: floats rounded to 3 decimals, durations in seconds,
times as RFC3339 and an unset time as null. Older layouts are derived in layouts.py.

A heat pump loadpoint shows what evcc's demo shows for its SG-ready heat pump: features
Heating, IntegratedDevice, SwitchDevice and Continuous, always connected, no vehicle,
vehicleSoc the water temperature, vehicleLimitSoc the boost temperature, `charging` the
boost (status C). An offline-template car shows vehicleSoc 0, no range, odometer or limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from smartload.sim.days import day_for, day_of, rfc3339
from smartload.sim.loadpoint import EVCC_CHARGE_EFFICIENCY, SimLoadpoint
from smartload.sim.site import Site

_FEATURES = ("AutodetectDisabled", "Average", "Cacheable", "ClimaterDisabled", "CoarseCurrent", "Continuous",
             "Heating", "IntegratedDevice", "Offline", "Retryable", "Streaming", "SwitchDevice", "WakeUpDisabled",
             "WelcomeCharge")
_STRATEGY = {"continuous": False, "precondition": 0}
# evcc's sgready charger (charger/sgready.go) with the demo's features.
_HEATING_FEATURES = ("Continuous", "Heating", "IntegratedDevice", "SwitchDevice")


def r3(value: float) -> float:
    return round(value, 3)


def _time(site: Site, t: float | None) -> str | None:
    return None if t is None else rfc3339(t, site.tz)


def solar_forecast(site: Site) -> tuple[list[tuple[float, float, float]], dict[str, Any]]:
    """15-minute solar forecast (W) until the end of the day after tomorrow, and day energies (Wh)."""
    today = day_of(site.t, site.tz)
    slots: list[tuple[float, float, float]] = []
    energies: dict[str, Any] = {}
    for offset, key in enumerate(("today", "tomorrow", "dayAfterTomorrow")):
        day = day_for(today.date + timedelta(days=offset), site.tz)
        values = site.solar.forecast_slots(day)
        energies[key] = {"energy": r3(sum(values) / 4.0), "complete": offset < 2}
        start = day.start
        slots += [(start + 900.0 * i, start + 900.0 * (i + 1), v) for i, v in enumerate(values)]
    current = site.t - site.t % 900
    return [s for s in slots if s[0] >= current], energies


def _loadpoint(site: Site, lp: SimLoadpoint) -> dict[str, Any]:
    vehicles = site.vehicles
    ev = lp.identified(vehicles)
    soc = lp.evcc_soc(vehicles)
    limit = lp.effective_limit_soc(vehicles)
    min_soc = lp.effective_min_soc(vehicles)
    now = site.t
    phases = lp.phases_active
    used = min(phases, lp.vehicle.spec.phases) if lp.vehicle is not None else phases
    current = lp.charge_power_w / (lp.voltage * used) if lp.charging else 0.0
    currents = [r3(current) if i < phases else 0.0 for i in range(3)]
    device = lp.device
    car = ev if device is None else None
    remaining_wh = 0.0
    if car is not None and soc is not None:
        remaining_wh = max(0.0, (limit - soc) / 100.0 * car.capacity_wh)
    elif car is not None and car.offline:
        # evcc's estimator counts from vehicleSoc 0 with its 85 % charge efficiency.
        remaining_wh = limit / 100.0 * car.capacity_wh / EVCC_CHARGE_EFFICIENCY
    session_kwh = lp.session_energy_wh / 1000.0
    # A SoC plan applies only to a car with a SoC (socBasedPlanning); its soc still shows.
    plan_time = ev.plan_time if ev is not None and lp.soc_based(vehicles) else None
    plan_soc = ev.plan_soc_pct if ev is not None and ev.plan_time is not None else 0
    windows = lp.plan_windows
    if device is not None:
        car_limit = round(device.spec.boost_c)
    else:
        car_limit = round(car.spec.car_limit_soc_pct) if car is not None and not car.offline else 0
    state: dict[str, Any] = {
        "name": lp.name, "title": lp.title, "mode": lp.mode,
        "connected": lp.connected, "charging": lp.enabled if device is not None else lp.charging,
        "enabled": lp.enabled,
        "connectedDuration": round(now - lp.connected_at) if lp.connected else 0,
        "chargeDuration": round(lp.charge_duration_s),
        "chargePower": r3(lp.charge_power_w), "chargeCurrents": currents,
        "chargeVoltages": [lp.voltage if i < phases else 0.0 for i in range(3)],
        "chargedEnergy": r3(lp.session_energy_wh), "sessionEnergy": r3(lp.session_energy_wh),
        "chargeRemainingEnergy": r3(remaining_wh),
        "chargeRemainingDuration": round(remaining_wh / lp.charge_power_w * 3600) if lp.charging else 0,
        "chargeTotalImport": r3(lp.total_import_wh / 1000.0),
        "vehicleName": lp.vehicle_name, "vehicleTitle": ev.spec.title if ev else "",
        "vehicleSoc": r3(soc or 0.0),
        "vehicleRange": round((soc or 0.0) / 100.0 * car.spec.capacity_kwh * car.spec.km_per_kwh) if car else 0,
        "vehicleOdometer": round(car.odometer_km) if car and not car.offline else 0,
        "vehicleLimitSoc": car_limit,
        "vehicleDetectionActive": lp.detection_active, "vehicleClimaterActive": None,
        "vehicleWelcomeActive": False,
        "limitSoc": lp.limit_soc, "limitEnergy": r3(lp.limit_energy_kwh),
        "minSoc": lp.min_soc, "effectiveMinSoc": min_soc, "effectiveLimitSoc": limit,
        "minSocNotReached": lp.min_soc_not_reached(vehicles),
        "plan": [{"start": rfc3339(s, site.tz), "end": rfc3339(e, site.tz), "value": r3(v)} for s, e, v in windows]
        or None,
        "planActive": lp.plan_active, "planTime": _time(site, plan_time), "planEnergy": 0,
        "planOverrun": 0, "planStrategy": dict(_STRATEGY),
        "planProjectedStart": _time(site, windows[0][0]) if windows else None,
        "planProjectedEnd": _time(site, windows[-1][1]) if windows else None,
        "effectivePlanId": 1 if plan_time is not None else 0,
        "effectivePlanTime": _time(site, plan_time), "effectivePlanSoc": plan_soc,
        "effectivePlanStrategy": dict(_STRATEGY),
        "smartCostLimit": lp.smart_cost_limit, "smartCostActive": lp.smart_cost_active,
        "smartCostNextStart": _time(site, lp.smart_cost_next_start),
        "smartFeedInPriorityActive": False, "smartFeedInPriorityLimit": None, "smartFeedInPriorityNextStart": None,
        "phasesConfigured": lp.phases_configured, "phasesActive": phases,
        "chargerPhases1p3p": lp.phase_switching, "chargerSinglePhase": lp.charger_phases == 1,
        "minCurrent": r3(lp.min_current), "maxCurrent": r3(lp.max_current),
        "effectiveMinCurrent": r3(lp.min_current), "effectiveMaxCurrent": r3(lp.max_current),
        "offeredCurrent": r3(lp.offered_current if lp.enabled else 0.0),
        "priority": 0, "effectivePriority": 0,
        "pvAction": lp.pv_action, "pvRemaining": round(lp.pv_remaining_s),
        "phaseAction": lp.phase_action, "phaseRemaining": round(lp.phase_remaining_s),
        "enableThreshold": r3(lp.enable_threshold_w), "enableDelay": round(lp.enable_delay_s),
        "disableThreshold": r3(lp.disable_threshold_w), "disableDelay": round(lp.disable_delay_s),
        "batteryBoost": False, "batteryBoostLimit": 100,
        "chargerIcon": None, "chargerStatusReason": "unknown",
        "sessionCo2PerKWh": None,
        "sessionPrice": r3(lp.session_cost_eur) if session_kwh > 0 else None,
        "sessionPricePerKWh": r3(lp.session_cost_eur / session_kwh) if session_kwh > 0 else None,
        "sessionSolarPercentage": r3(lp.session_solar_wh / lp.session_energy_wh * 100) if session_kwh > 0 else 0,
        "disabled": False,
    }
    for feature in _FEATURES:
        state[f"chargerFeature{feature}"] = device is not None and feature in _HEATING_FEATURES
    if device is not None:
        state["chargerIcon"] = "heatpump"
        state["ui"] = {"minTemp": r3(device.spec.ui_min_c), "maxTemp": r3(device.spec.ui_max_c)}
    return state


def _vehicles(site: Site) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, v in site.vehicles.items():
        entry: dict[str, Any] = {
            "title": v.spec.title, "icon": "car", "capacity": r3(v.spec.capacity_kwh), "phases": v.spec.phases,
            "minSoc": round(v.min_soc_pct), "limitSoc": round(v.limit_soc_pct),
            "features": ["Offline"] if v.offline else [], "repeatingPlans": [], "planStrategy": dict(_STRATEGY),
        }
        if v.plan_time is not None:
            entry["plan"] = {"soc": round(v.plan_soc_pct), "time": rfc3339(v.plan_time)}
        result[name] = entry
    return result


def _statistics(site: Site) -> dict[str, Any]:
    charged = site.totals.loadpoints_wh
    cost = sum(lp.session_cost_eur for lp in site.loadpoints)
    data = {
        "avgCo2": 0.0,
        "avgPrice": r3(cost / (charged / 1000.0)) if charged > 0 else 0.0,
        "chargedKWh": r3(charged / 1000.0),
        "solarPercentage": r3(site.totals.solar_to_cars_wh / charged * 100) if charged > 0 else 0.0,
    }
    return {key: dict(data) for key in ("30d", "365d", "thisYear", "total")}


def build_state(site: Site, version: str) -> dict[str, Any]:
    """GET /api/state in the current layout: battery{}, grid{}, compact forecast arrays."""
    now = site.t
    tariff = site.tariff
    grid_rates = tariff.grid_rates(now)
    solar_slots, solar_days = solar_forecast(site)
    control, battery = site.control, site.battery
    totals = site.totals
    price = tariff.price_at(now)
    home_share = min(1.0, (site.pv_w + site.battery_discharge_w) / site.house_w) if site.house_w > 0 else 0.0
    local = datetime.fromtimestamp(now, site.tz)
    offset = local.strftime("%z")
    state: dict[str, Any] = {
        "version": version, "siteTitle": site.scenario.title, "currency": site.scenario.tariff.currency,
        "timezone": f"{local.tzname()} {offset[:3]}:{offset[3:]}",
        "homePower": r3(site.house_w), "pvPower": r3(site.pv_w), "pvEnergy": r3(totals.pv_wh / 1000.0),
        "pv": [{"power": r3(site.pv_w), "energy": r3(totals.pv_wh / 1000.0)}],
        "grid": {"power": r3(site.grid_w), "energy": r3(totals.import_wh / 1000.0)},
        "gridConfigured": True, "residualPower": r3(site.residual_power_w), "gridExportLimit": 0,
        "greenShareHome": r3(home_share), "greenShareLoadpoints": r3(site.green_share_loadpoints),
        "tariffGrid": r3(price), "tariffFeedIn": r3(tariff.feedin),
        "tariffSolar": r3(solar_slots[0][2]) if solar_slots else 0.0,
        "tariffPriceHome": r3(price * (1 - home_share) + tariff.feedin * home_share),
        "tariffPriceLoadpoints": r3(price * (1 - site.green_share_loadpoints)
                                    + tariff.feedin * site.green_share_loadpoints),
        "smartCostAvailable": True, "smartCostType": "priceforecast", "smartFeedInPriorityAvailable": False,
        "solarAdjusted": site.solar_adjusted,
        "batteryMode": control.mode, "batteryDischargeControl": control.discharge_control,
        **({"batteryModeExternal": control.external} if control.external_published else {}),
        "batteryGridChargeLimit": control.grid_charge_limit,
        "batteryGridChargeActive": control.grid_charge_active, "batteryGridDischarge": False,
        "bufferSoc": r3(control.buffer_soc), "bufferStartSoc": r3(control.buffer_start_soc),
        "prioritySoc": r3(control.priority_soc),
        "forecast": {
            "grid": [[int(s), int(e), r3(v)] for s, e, v in grid_rates],
            "planner": [[int(s), int(e), r3(v)] for s, e, v in grid_rates],
            "feedin": [[int(s), int(e), r3(tariff.feedin)] for s, e, _ in grid_rates],
            "solar": {"scale": 1.0, **solar_days, "timeseries": [[int(s), r3(v)] for s, _, v in solar_slots]},
        },
        "vehicles": _vehicles(site),
        "loadpoints": [_loadpoint(site, lp) for lp in site.loadpoints],
        "statistics": _statistics(site),
        "interval": round(site.interval_s),
        "authDisabled": True, "demoMode": False, "startupCompleted": True, "apiReady": True,
        "setupRequired": False, "telemetry": False, "experimental": False,
        "aux": [], "ext": [],
    }
    if battery is not None:
        power = site.battery_discharge_w - site.battery_charge_w
        device = {"name": "battery", "title": "Home battery", "power": r3(power),
                  "capacity": r3(battery.spec.capacity_kwh), "soc": r3(battery.soc_pct),
                  "controllable": battery.spec.controllable}
        state["battery"] = {"power": r3(power), "capacity": r3(battery.spec.capacity_kwh),
                            "soc": r3(battery.soc_pct), "energy": r3(battery.energy_wh / 1000.0),
                            "devices": [device]}
    return state
