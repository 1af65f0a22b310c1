"""Builders for simulator tests: small scenarios with controlled power, sites at local times."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from smartload.sim.handlers import ROUTES, NotRouted
from smartload.sim.scenario import Scenario
from smartload.sim.site import Site

BERLIN = ZoneInfo("Europe/Berlin")
# 16 A x 230 V x 3 phases, and the 6 A minimum.
FULL_W = 11040.0
MIN_W = 4140.0

BASE: dict[str, Any] = {
    "title": "test site",
    "timezone": "Europe/Berlin",
    "latitude": 52.5,
    "longitude": 13.4,
    "pv": {"kwp": 0, "cloudiness": 0, "cloud_seasonality": 0},
    "house": {"annual_kwh": 0, "noise": 0},
    "loadpoints": [{"title": "Garage", "phases": 3, "min_current_a": 6, "max_current_a": 16, "mode": "pv",
                    "enable_delay_s": 60, "disable_delay_s": 180}],
    "vehicles": {
        "ev": {"title": "Test EV", "capacity_kwh": 50, "max_charge_w": 12000, "detection_s": 0,
               "start": {"state": "plugged", "soc_pct": 40, "evcc_soc_pct": 40}},
    },
}


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def scenario(**overrides: Any) -> Scenario:
    return Scenario.model_validate(merge(BASE, overrides))


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def site(start: str = "2024-07-15T20:00:00", *, pv_w: float | None = 0.0, house_w: float | None = 0.0,
         seed: int = 1, **overrides: Any) -> Site:
    """A site at a local Berlin time with PV and house held constant (None: the models)."""
    result = Site(scenario(**overrides), start=local(start), seed=seed)
    result.hold(pv_w=pv_w, house_w=house_w)
    return result


def run(s: Site, seconds: float, step_s: float = 10.0) -> None:
    s.run_for(seconds, step_s)


HEATPUMP_LP: dict[str, Any] = {"title": "Heat pump", "device": "heatpump", "phases": 3, "mode": "pv",
                               "enable_delay_s": 60, "disable_delay_s": 180}


def write(s: Site, method: str, path: str) -> tuple[int, Any]:
    """An evcc write in process, through the handlers the HTTP server routes to: (status, body)."""
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match is None or route_method != method:
            continue
        try:
            return 200, handler(s, match)
        except NotRouted:
            break
        except ValueError as exc:
            return 400, {"error": str(exc)}
    return 404, "404 page not found"
