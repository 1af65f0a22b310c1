"""Times as text and back: the one place that writes and reads ISO 8601 / RFC 3339.

Two written forms, both in UTC: `iso` with a Z, as reports, the API, SSE and MQTT show
every time; `iso_utc` with +00:00, as SQLite and the manual SoC file store them (text
that sorts and compares as time). `parse_iso` reads either, or any other offset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def iso(at: datetime) -> str: ...
@overload
def iso(at: None) -> None: ...
@overload
def iso(at: datetime | None) -> str | None: ...
def iso(at: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z ("2025-09-08T10:00:00Z"); microseconds only if the time
    has them. None stays None."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_utc(at: datetime) -> str:
    """ISO 8601 in UTC with +00:00 ("2025-09-08T10:00:00+00:00"): how times are stored."""
    return at.astimezone(UTC).isoformat()


def parse_iso(text: str) -> datetime:
    """An ISO 8601 time with Z, an offset, or none (naive); ValueError if the text is no
    ISO time."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
