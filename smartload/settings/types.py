"""Building blocks of every settings model: strict models, human-friendly durations, times
of day, URLs, time zones.

Only pydantic and the standard library: every settings module builds on this. The bounds
of a charge request live here too, so settings, the API, MQTT and the sequencer share one
set, and the test of which names and settings values are secret, so no error message and
no log line shows one.
"""

from __future__ import annotations

import re
import types
from datetime import timedelta
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr

# libyaml's parser where PyYAML has it (its wheels do): the pure-Python one takes ~25 ms
# for settings.yaml, on every start and every check-config.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$")


def parse_duration(value: Any) -> Any:
    """Accept "10s", "15m", "1h30m" and plain seconds besides pydantic's ISO forms."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match and any(match.groups()):
            h, m, s = (float(g) if g else 0.0 for g in match.groups())
            return timedelta(hours=h, minutes=m, seconds=s)
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def positive_duration(value: timedelta) -> timedelta:
    """A field validator body: the duration must be longer than zero."""
    if value <= timedelta(0):
        raise ValueError("must be a positive duration")
    return value


# A time of day "HH:MM" (24 h). Settings and scenarios want two digits for the hour; the
# API and MQTT take "7:30" too.
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_clock(text: str, *, short_hour: bool = False) -> tuple[int, int]:
    """(hour, minute) of a time of day "HH:MM" ("H:MM" too with short_hour), else ValueError."""
    match = _CLOCK.match(text)
    if match is None or (len(match[1]) == 1 and not short_hour):
        raise ValueError(f"not a time of day HH:MM: {text!r}")
    return int(match[1]), int(match[2])


def is_clock(text: str, *, short_hour: bool = False) -> bool:
    """Whether the text is a time of day "HH:MM" ("H:MM" too with short_hour)."""
    try:
        parse_clock(text, short_hour=short_hour)
    except ValueError:
        return False
    return True


_HTTP_URL = re.compile(r"^https?://[^\s/]+")


def is_http_url(value: str) -> bool:
    """Whether the text starts like an http(s):// URL with a host."""
    return _HTTP_URL.match(value) is not None


# What a charge request may ask for, whoever makes it (API, MQTT, settings defaults). The
# planner cuts the time up to a departure into quarter-hours: one years ahead made it fail
# (OverflowError) on every plan, so a departure must lie within the price horizon's reach.
REQUEST_MIN_TARGET_SOC_PCT = 1.0
REQUEST_MAX_TARGET_SOC_PCT = 100.0
REQUEST_MAX_ENERGY_KWH = 500.0
REQUEST_MAX_PRIORITY = 100
REQUEST_MAX_AHEAD = timedelta(days=14)


class StrictModel(BaseModel):
    """Frozen, and a typo in a key is an error rather than a silently ignored option.

    defer_build: a model's validator is built when it first validates, as part of the
    root's, not once more at import for every section and provider model (CPU at every
    start; with environment.py, `check-config` 0.40 s instead of 0.44-0.49 s)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def check_timezone(value: str) -> str:
    """A field validator body: the name must be an IANA time zone this machine knows."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


# A name with one of these in it holds a secret, or may (a typo of "password"): a key path
# of the settings, a log record's extra field.
_SECRET_NAME = re.compile(r"(?i)pass|token|secret|key|auth|cookie|credential|header|^pin$")
_UNKNOWN = object()


def secret_name(name: str) -> bool:
    """Whether a value by this name may be a secret (password, token, api_key, ...)."""
    return _SECRET_NAME.search(name) is not None


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types an annotation allows: Optional, unions and Annotated unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return tuple(m for arg in get_args(annotation) for m in _members(arg))
    return (annotation,)


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation one step of a pydantic error location further, or _UNKNOWN."""
    for member in _members(annotation):
        origin = get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            field = member.model_fields.get(str(part))
            if field is not None:
                return field.annotation
        elif origin is dict:
            return get_args(member)[1]
        elif origin in (list, tuple) and isinstance(part, int):
            return get_args(member)[0]
    # A discriminated union names the chosen member by its tag: the next part.
    tagged = [m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)
              and "type" in m.model_fields and get_origin(m.model_fields["type"].annotation) is Literal
              and part in get_args(m.model_fields["type"].annotation)]
    return tagged[0] if tagged else _UNKNOWN


def secret_path(model: type[BaseModel], loc: tuple[str | int, ...]) -> bool:
    """Whether the value at this key path may be a secret: a SecretStr, a name such as
    password or token anywhere in the path, or a path the models do not know (a typo)."""
    if any(secret_name(str(part)) for part in loc):
        return True
    annotation: Any = model
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is _UNKNOWN or SecretStr in _members(annotation):
            return True
    return False
