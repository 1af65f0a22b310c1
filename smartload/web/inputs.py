"""Request bodies of the write endpoints and the errors that name the offending field.

A body is read only up to MAX_BODY_BYTES (413 beyond, told by Content-Length or counted
while it streams in) and nested at most MAX_DEPTH deep, so no input can exhaust memory or
the parser's recursion; the values' bounds are the shared ones of settings/types.py (REQUEST_*).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from smartload.jsonscan import nesting
from smartload.settings.types import (
    REQUEST_MAX_ENERGY_KWH,
    REQUEST_MAX_PRIORITY,
    REQUEST_MAX_TARGET_SOC_PCT,
    REQUEST_MIN_TARGET_SOC_PCT,
    is_clock,
    parse_clock,
)
from smartload.timefmt import parse_iso

M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 8  # every body is one flat object; a little room for what a client may nest
_LONGEST_INT = 64  # digits; longer integers become infinite floats that every bound rejects
_LONGEST_TIME = 64  # characters of an RFC 3339 time, with room for spaces


class ApiError(Exception):
    """Answered as {"error": "<field>: <message>", "field": "<field>"} with `status`."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message

    @classmethod
    def from_control(cls, exc: KeyError | ValueError) -> ApiError:
        """Controls and the sequencer say "<field>: <message>"; a bare message names none."""
        text = str(exc.args[0]) if exc.args else str(exc)
        field, sep, message = text.partition(": ")
        if not sep or " " in field:
            field, message = ("vehicle" if isinstance(exc, KeyError) else "body"), text
        return cls(404 if isinstance(exc, KeyError) else 422, field, message)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmptyBody(_Body):
    """No fields (a refresh takes no parameters); unknown ones are errors."""


class RequestBody(_Body):
    vehicle: str
    departure: str = Field(description="RFC 3339 time (no offset: site time) or HH:MM, the next such time")
    target_soc_pct: float | None = Field(default=None, ge=REQUEST_MIN_TARGET_SOC_PCT, le=REQUEST_MAX_TARGET_SOC_PCT)
    energy_kwh: float | None = Field(default=None, gt=0, le=REQUEST_MAX_ENERGY_KWH)
    priority: int = Field(default=0, ge=0, le=REQUEST_MAX_PRIORITY)


class BoostBody(_Body):
    minutes: int = Field(default=60, ge=1, le=1440)


class SocBody(_Body):
    soc_pct: float = Field(ge=0, le=100)
    measured_at: datetime | None = None


def too_large() -> ApiError:
    return ApiError(413, "body", f"must be at most {MAX_BODY_BYTES // 1024} kB")


async def read_body(request: Request) -> bytes:
    """The body, refused (413) as soon as it is known to exceed MAX_BODY_BYTES."""
    declared = request.headers.get("content-length")
    if declared is not None:
        declared = declared.strip()
        if not declared.isdigit():
            raise ApiError(400, "content-length", "must be a number of bytes")
        if len(declared) > 9 or int(declared) > MAX_BODY_BYTES:
            raise too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _integer(text: str) -> int | float:
    # int() of thousands of digits is slow, then refused (ValueError): as a float it is
    # infinite, and the field's bound names the field.
    return int(text) if len(text) <= _LONGEST_INT else float(text)


def decode(raw: bytes) -> Any:
    """JSON from a body read by read_body; ApiError(400, "body") if it is none."""
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and nesting(raw) > MAX_DEPTH:
        raise ApiError(400, "body", f"nests deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw, parse_int=_integer, parse_constant=_no_constant)
    except RecursionError as exc:  # not reached past the nesting check; kept as the last guard
        raise ApiError(400, "body", f"nests deeper than {MAX_DEPTH} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ApiError(400, "body", f"not valid JSON ({exc})") from exc


async def parse_body(request: Request, model: type[M]) -> M:
    raw = await read_body(request)
    data = decode(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ApiError(400, "body", "must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(422, field, first["msg"].removeprefix("Value error, ")) from exc


def parse_departure(text: str, now: datetime, tz: tzinfo) -> datetime:
    """An RFC 3339 time (no offset: site time), or HH:MM meaning the next such time of day
    at the site; timezone-aware and in the future. How far ahead it may lie is
    Controls.add_request's check (REQUEST_MAX_AHEAD): the time is returned in
    the offset it was given, since one far off may not convert to UTC (OverflowError)."""
    text = text.strip()
    if is_clock(text, short_hour=True):
        hour, minute = parse_clock(text, short_hour=True)
        local = now.astimezone(tz)
        at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if at <= local:
            at = (at.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)
        return at.astimezone(UTC)
    try:
        if len(text) > _LONGEST_TIME:
            raise ValueError(text)
        at = parse_iso(text)
    except ValueError as exc:
        raise ApiError(422, "departure", "must be an RFC 3339 time or HH:MM") from exc
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    if at <= now:
        raise ApiError(422, "departure", "must be in the future")
    return at
