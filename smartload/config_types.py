"""Building blocks of every settings model: strict models and human-friendly durations.

Only pydantic and the standard library: settings.py and the provider modules (whose
settings models settings.py imports) both build on this. The bounds of a charge request
live here too, so settings, the API, MQTT and the sequencer share one set, and the test of
which settings values are secret, so no error message shows one.
"""

from __future__ import annotations

import re
import types
from datetime import timedelta
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr

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

# What a charge request may ask for, whoever makes it (API, MQTT, settings defaults). The
# planner cuts the time up to a departure into quarter-hours: one years ahead made it fail
# (OverflowError) on every plan, so a departure must lie within the price horizon's reach.
REQUEST_MIN_TARGET_SOC_PCT = 1.0
REQUEST_MAX_TARGET_SOC_PCT = 100.0
REQUEST_MAX_ENERGY_KWH = 500.0
REQUEST_MAX_PRIORITY = 100
REQUEST_MAX_AHEAD = timedelta(days=14)


class StrictModel(BaseModel):
    """Frozen, and a typo in a key is an error rather than a silently ignored option."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_timezone(value: str) -> str:
    """A field validator body: the name must be an IANA time zone this machine knows."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


# A key path with one of these in a part holds a secret, or may (a typo of "password").
_SECRET_PART = re.compile(r"(?i)pass|token|secret|key|auth|cookie|credential|header|^pin$")
_UNKNOWN = object()


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
    if any(_SECRET_PART.search(str(part)) for part in loc):
        return True
    annotation: Any = model
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is _UNKNOWN or SecretStr in _members(annotation):
            return True
    return False
