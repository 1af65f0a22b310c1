"""evcc's write endpoints against the site model, each answering as evcc does.

A handler gets the site and the route's regex match and returns the new value (evcc's
response body) or raises ValueError (400 {"error": ...}). Unknown loadpoints are
unrouted in evcc, so they raise NotRouted (404 "404 page not found").

Without a battery evcc can control (core/site_api.go, hasBatteryControl), the external
battery mode is not taken but the handler still answers 200 with the mode in force (0,
unknown), while the grid-charge limit and discharge control are refused with 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from smartload.sim.battery import MODES as BATTERY_MODES
from smartload.sim.days import rfc3339
from smartload.sim.loadpoint import SimLoadpoint
from smartload.sim.site import Site
from smartload.sim.vehicle import SimVehicle
from smartload.timefmt import parse_iso

Handler = Callable[[Site, "re.Match[str]"], Any]
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_ZERO_TIME = "0001-01-01T00:00:00Z"
NO_BATTERY_CONTROL = "battery control not available"


class NotRouted(Exception):
    """evcc has no route for this path (e.g. a loadpoint that does not exist)."""


def parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax') from None


def parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax') from None


def parse_bool(text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def parse_soc(text: str) -> float:
    soc = parse_float(text)
    if not 0 <= soc <= 100:
        raise ValueError(f"invalid soc: {text}")
    return soc


def _lp(site: Site, m: re.Match[str]) -> SimLoadpoint:
    lp_id = int(m["id"])
    if not 1 <= lp_id <= len(site.loadpoints):
        raise NotRouted
    return site.loadpoint(lp_id)


def _vehicle(site: Site, m: re.Match[str]) -> SimVehicle:
    name = m["name"]
    if name not in site.vehicles:
        raise ValueError(f"vehicle not found: {name}")
    return site.vehicles[name]


def _control(fn: Callable[[Site, re.Match[str]], Any]) -> Handler:
    """Writes make evcc re-evaluate at once, as its setters request an update."""
    def handler(site: Site, m: re.Match[str]) -> Any:
        result = fn(site, m)
        site.request_control()
        return result
    return handler


# --- loadpoints ---------------------------------------------------------------------------

def lp_mode(site: Site, m: re.Match[str]) -> Any:
    return _lp(site, m).set_mode(m["value"])


def lp_limit_soc(site: Site, m: re.Match[str]) -> Any:
    return _lp(site, m).set_limit_soc(parse_int(m["value"]))


def lp_min_soc(site: Site, m: re.Match[str]) -> Any:
    return _lp(site, m).set_min_soc(parse_int(m["value"]))


def lp_limit_energy(site: Site, m: re.Match[str]) -> Any:
    return _lp(site, m).set_limit_energy(parse_float(m["value"]))


def lp_min_current(site: Site, m: re.Match[str]) -> Any:
    return _lp(site, m).set_min_current(parse_float(m["value"]))


def lp_max_current(site: Site, m: re.Match[str]) -> Any:
    return _lp(site, m).set_max_current(parse_float(m["value"]))


def lp_phases(site: Site, m: re.Match[str]) -> Any:
    return _lp(site, m).set_phases(parse_int(m["value"]))


def lp_smart_cost(site: Site, m: re.Match[str]) -> Any:
    value = m.groupdict().get("value")
    return _lp(site, m).set_smart_cost_limit(None if value is None else parse_float(value))


def lp_assign_vehicle(site: Site, m: re.Match[str]) -> Any:
    lp = _lp(site, m)
    vehicle = _vehicle(site, m)
    site.assign_vehicle(lp.id, vehicle.name)
    return {"vehicle": vehicle.spec.title}


def lp_remove_vehicle(site: Site, m: re.Match[str]) -> Any:
    site.assign_vehicle(_lp(site, m).id, None)
    return {}


def lp_detect_vehicle(site: Site, m: re.Match[str]) -> Any:
    site.restart_detection(_lp(site, m).id)
    return {}


def _lp_number(attribute: str, parse: Callable[[str], float]) -> Handler:
    def handler(site: Site, m: re.Match[str]) -> Any:
        value = parse(m["value"])
        setattr(_lp(site, m), attribute, value)
        return value
    return handler


def site_smart_cost(site: Site, m: re.Match[str]) -> Any:
    value = m.groupdict().get("value")
    limit = None if value is None else parse_float(value)
    for lp in site.loadpoints:
        lp.set_smart_cost_limit(limit)
    return limit


# --- vehicles -----------------------------------------------------------------------------

def vehicle_plan_soc(site: Site, m: re.Match[str]) -> Any:
    vehicle = _vehicle(site, m)
    try:
        when = parse_iso(m["time"])
    except ValueError:
        raise ValueError(f'parsing time "{m["time"]}" as RFC3339: cannot parse') from None
    if when.tzinfo is None:
        raise ValueError(f'parsing time "{m["time"]}": missing time zone offset')
    soc = parse_int(m["value"])
    if soc > 100:
        raise ValueError(f"invalid soc: {soc}")
    if soc == 0:
        vehicle.plan_soc_pct, vehicle.plan_time = 0.0, None
        return {"soc": 0, "time": _ZERO_TIME}
    if when.timestamp() <= site.t:
        raise ValueError("timestamp is in the past")
    vehicle.plan_soc_pct, vehicle.plan_time = float(soc), when.timestamp()
    return {"soc": soc, "time": rfc3339(when.timestamp())}


def vehicle_plan_delete(site: Site, m: re.Match[str]) -> Any:
    vehicle = _vehicle(site, m)
    vehicle.plan_soc_pct, vehicle.plan_time = 0.0, None
    return {}


def vehicle_limit_soc(site: Site, m: re.Match[str]) -> Any:
    vehicle = _vehicle(site, m)
    vehicle.limit_soc_pct = parse_soc(m["value"])
    return {"soc": round(vehicle.limit_soc_pct)}


def vehicle_min_soc(site: Site, m: re.Match[str]) -> Any:
    vehicle = _vehicle(site, m)
    vehicle.min_soc_pct = parse_soc(m["value"])
    return {"soc": round(vehicle.min_soc_pct)}


# --- site and battery ------------------------------------------------------------------------

def battery_mode(site: Site, m: re.Match[str]) -> Any:
    value = m.groupdict().get("value") or "unknown"
    if value not in BATTERY_MODES:
        raise ValueError(f"{value} does not belong to BatteryMode values")
    # evcc's handler ignores SetBatteryModeExternal's error: without battery control the
    # mode is simply not taken.
    if site.battery_control:
        site.control.set_external(value, site.t)
    # evcc answers with the enum's number: 0 unknown, 1 normal, 2 hold, 3 charge, 4 holdcharge.
    return BATTERY_MODES.index(site.control.external)


def battery_grid_charge_limit(site: Site, m: re.Match[str]) -> Any:
    value = m.groupdict().get("value")
    limit = None if value is None else parse_float(value)
    if not site.battery_control:
        raise ValueError(NO_BATTERY_CONTROL)
    site.control.grid_charge_limit = limit
    return site.control.grid_charge_limit


def battery_discharge_control(site: Site, m: re.Match[str]) -> Any:
    value = parse_bool(m["value"])
    if not site.battery_control:
        raise ValueError(NO_BATTERY_CONTROL)
    site.control.discharge_control = value
    return site.control.discharge_control


def _site_soc(attribute: str) -> Handler:
    def handler(site: Site, m: re.Match[str]) -> Any:
        soc = parse_soc(m["value"])
        setattr(site.control, attribute, soc)
        return soc
    return handler


def solar_adjusted(site: Site, m: re.Match[str]) -> Any:
    site.solar_adjusted = parse_bool(m["value"])
    return site.solar_adjusted


def residual_power(site: Site, m: re.Match[str]) -> Any:
    site.residual_power_w = parse_float(m["value"])
    return site.residual_power_w


_LP = r"/api/loadpoints/(?P<id>[0-9]+)"
_VEHICLE = r"/api/vehicles/(?P<name>[a-zA-Z0-9_.:-]+)"
_NUMBER = r"(?P<value>[0-9.]+)"
_SIGNED = r"(?P<value>-?[0-9.]+)"

WRITES: list[tuple[str, str, Handler]] = [
    ("POST", _LP + r"/mode/(?P<value>[a-z]+)", lp_mode),
    ("POST", _LP + r"/limitsoc/(?P<value>[0-9]+)", lp_limit_soc),
    ("POST", _LP + r"/mintemp/(?P<value>[0-9]+)", lp_min_soc),
    ("POST", _LP + r"/limitenergy/" + _NUMBER, lp_limit_energy),
    ("POST", _LP + r"/mincurrent/" + _NUMBER, lp_min_current),
    ("POST", _LP + r"/maxcurrent/" + _NUMBER, lp_max_current),
    ("POST", _LP + r"/phases/(?P<value>[0-9]+)", lp_phases),
    ("POST", _LP + r"/vehicle/(?P<name>[a-zA-Z0-9_.:-]+)", lp_assign_vehicle),
    ("DELETE", _LP + r"/vehicle(?:/(?P<name>[a-zA-Z0-9_.:-]+))?", lp_remove_vehicle),
    ("PATCH", _LP + r"/vehicle", lp_detect_vehicle),
    ("POST", _LP + r"/smartcostlimit/" + _SIGNED, lp_smart_cost),
    ("DELETE", _LP + r"/smartcostlimit", lp_smart_cost),
    ("POST", _LP + r"/enable/threshold/" + _SIGNED, _lp_number("enable_threshold_w", parse_float)),
    ("POST", _LP + r"/enable/delay/(?P<value>[0-9]+)", _lp_number("enable_delay_s", parse_int)),
    ("POST", _LP + r"/disable/threshold/" + _SIGNED, _lp_number("disable_threshold_w", parse_float)),
    ("POST", _LP + r"/disable/delay/(?P<value>[0-9]+)", _lp_number("disable_delay_s", parse_int)),
    ("POST", r"/api/smartcostlimit/" + _SIGNED, site_smart_cost),
    ("DELETE", r"/api/smartcostlimit", site_smart_cost),
    ("POST", _VEHICLE + r"/plan/soc/(?P<value>[0-9]+)/(?P<time>[0-9TZ:.+-]+)", vehicle_plan_soc),
    ("DELETE", _VEHICLE + r"/plan/soc", vehicle_plan_delete),
    ("POST", _VEHICLE + r"/limitsoc/(?P<value>[0-9]+)", vehicle_limit_soc),
    ("POST", _VEHICLE + r"/minsoc/(?P<value>[0-9]+)", vehicle_min_soc),
    ("POST", r"/api/batterymode/(?P<value>[a-z]+)", battery_mode),
    ("DELETE", r"/api/batterymode", battery_mode),
    ("POST", r"/api/batterygridchargelimit/" + _SIGNED, battery_grid_charge_limit),
    ("DELETE", r"/api/batterygridchargelimit", battery_grid_charge_limit),
    ("POST", r"/api/batterydischargecontrol/(?P<value>[01truefals]+)", battery_discharge_control),
    ("POST", r"/api/buffersoc/" + _NUMBER, _site_soc("buffer_soc")),
    ("POST", r"/api/prioritysoc/" + _NUMBER, _site_soc("priority_soc")),
    ("POST", r"/api/bufferstartsoc/" + _NUMBER, _site_soc("buffer_start_soc")),
    ("POST", r"/api/residualpower/" + _SIGNED, residual_power),
    ("POST", r"/api/solaradjusted/(?P<value>[01truefals]+)", solar_adjusted),
]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile(pattern + "$"), _control(handler)) for method, pattern, handler in WRITES
]
