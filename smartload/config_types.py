"""Building blocks of every settings model: strict models and human-friendly durations.

Only pydantic and the standard library: settings.py and the provider modules (whose
settings models settings.py imports) both build on this.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict

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
