"""The request in force for each car: an explicit one a person made, or the default from
settings (target SoC and a weekly departure schedule in the site's time zone)."""

from __future__ import annotations

from datetime import datetime

from loguru import logger

from smartload.requests import ChargeRequest, next_departure, request_problem
from smartload.settings import Settings
from smartload.store.requests import RequestStore


def effective_requests(settings: Settings, store: RequestStore, now: datetime) -> dict[str, ChargeRequest]:
    """The request in force per configured vehicle: an explicit open one within the bounds
    (one beyond them is ended), else the default from settings unless that default was
    already met (or the car left) before departure."""
    explicit = store.open_requests()
    out: dict[str, ChargeRequest] = {}
    for vehicle, config in settings.vehicles.items():
        if vehicle in explicit:
            problem = request_problem(explicit[vehicle], now)
            if problem is None:
                out[vehicle] = explicit[vehicle]
                continue
            # Stored before the bounds were checked (a departure in year 9999 failed every
            # plan): it ends, once, and the car's default applies as if it had been cancelled.
            store.end(explicit[vehicle], now, "out of bounds")
            logger.warning("{}: its stored request cannot be planned ({}); it ends and the car's default applies",
                           vehicle, problem)
        departure = next_departure(now, config.departures or settings.planning.departures, settings.site.tz)
        if departure is None or store.default_ended(vehicle, departure):
            continue
        target = config.target_soc_pct or settings.planning.default_target_soc_pct
        out[vehicle] = ChargeRequest(vehicle, departure, target, None, config.priority)
    return out
