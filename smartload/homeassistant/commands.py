"""Commands from Home Assistant (or any MQTT client) on <prefix>/vehicle/<id>/<command>/set.

boost: PRESS (the configured minutes) or a number of minutes; refresh: any payload;
cancel: any payload; soc: a SoC in %; target_soc: a target in % (keeps the departure);
departure: HH:MM, HH:MM:SS (what Home Assistant's time entity sends) or an RFC 3339 time
(keeps the target). A target or departure makes a new
request from the one in force, so the other half stays as it was.
"""

from __future__ import annotations

import math
import re

from smartload.requests import ChargeRequest, next_departure
from smartload.system import System
from smartload.web.inputs import ApiError, parse_departure

_LONGEST_NUMBER = 32  # characters; a payload is a number a person typed, or a button
# A time entity sends time.isoformat(): seconds, and a fraction where a client sets one.
_CLOCK_WITH_SECONDS = re.compile(r"^(\d{1,2}:\d{2}):\d{2}(?:\.\d{1,6})?$")


class CommandError(Exception):
    """The message names the field: "<field>: <why>"."""


def _number(payload: str, field: str) -> float:
    text = payload.strip()
    try:
        value = float(text) if len(text) <= _LONGEST_NUMBER else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # "nan", "inf" and 1e999 are no amounts either
        raise CommandError(f"{field}: not a number: {payload[:_LONGEST_NUMBER]!r}")
    return value


def _request_base(system: System, vehicle: str) -> ChargeRequest | None:
    return system.planning.sequencer.requests(system.now).get(vehicle)


def _new_request(system: System, vehicle: str, target: float | None, departure_text: str | None) -> str:
    settings, now = system.settings, system.now
    base = _request_base(system, vehicle)
    config = settings.vehicles[vehicle]
    if departure_text is not None:
        # Seconds are dropped: a departure a few seconds early loses nothing, the plan works
        # in quarter-hours.
        clock = _CLOCK_WITH_SECONDS.match(departure_text.strip())
        try:
            departure = parse_departure(clock[1] if clock else departure_text, now, settings.site.tz)
        except ApiError as exc:
            raise CommandError(str(exc)) from exc
    elif base is not None:
        departure = base.departure
    else:
        schedule = config.departures or settings.planning.departures
        found = next_departure(now, schedule, settings.site.tz)
        if found is None:
            raise CommandError("departure: none scheduled; set a departure first")
        departure = found
    if target is None:
        target = base.target_soc_pct if base is not None and base.target_soc_pct is not None else (
            config.target_soc_pct or settings.planning.default_target_soc_pct)
    stored = system.controls.add_request(ChargeRequest(vehicle, departure, target, None,
                                                        base.priority if base else config.priority, "mqtt"))
    return f"{vehicle}: {stored.target_soc_pct:.0f} % by {stored.departure.isoformat()}"


def apply_command(system: System, vehicle: str, command: str, payload: str, boost_minutes: int) -> str:
    """Carry out one command; returns what was done, raises CommandError naming the field."""
    if vehicle not in system.settings.vehicles:
        raise CommandError(f"vehicle: unknown vehicle {vehicle!r}")
    controls = system.controls
    try:
        if command == "boost":
            text = payload.strip()
            minutes = boost_minutes if text in ("", "PRESS") else int(_number(text, "minutes"))
            until = controls.boost(vehicle, minutes)
            return f"{vehicle}: boost until {until.isoformat()}"
        if command == "refresh":
            controls.refresh(vehicle)
            return f"{vehicle}: refresh asked for"
        if command == "cancel":
            return f"{vehicle}: request {'cancelled' if controls.cancel_request(vehicle) else 'was not its own'}"
        if command == "soc":
            reading = controls.set_soc(vehicle, _number(payload, "soc_pct"))
            return f"{vehicle}: SoC {reading.soc_pct:.0f} % entered"
        if command == "target_soc":
            # Controls.add_request checks the bounds (settings/types.py: REQUEST_*), as for the web API.
            return _new_request(system, vehicle, _number(payload, "target_soc_pct"), None)
        if command == "departure":
            return _new_request(system, vehicle, None, payload)
    except (KeyError, ValueError) as exc:
        raise CommandError(str(exc.args[0]) if exc.args else str(exc)) from exc
    raise CommandError(f"command: unknown command {command!r}")
