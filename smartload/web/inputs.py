"""Request bodies of the write endpoints and the errors that name the offending field."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

M = TypeVar("M", bound=BaseModel)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


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
    target_soc_pct: float | None = Field(default=None, gt=0, le=100)
    energy_kwh: float | None = Field(default=None, gt=0, le=500)
    priority: int = Field(default=0, ge=0, le=100)


class BoostBody(_Body):
    minutes: int = Field(default=60, ge=1, le=1440)


class SocBody(_Body):
    soc_pct: float = Field(ge=0, le=100)
    measured_at: datetime | None = None


async def parse_body(request: Request, model: type[M]) -> M:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "body", f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "body", "must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(422, field, first["msg"].removeprefix("Value error, ")) from exc


def parse_departure(text: str, now: datetime, tz: tzinfo) -> datetime:
    """An RFC 3339 time, or HH:MM meaning the next such time of day at the site."""
    clock = _CLOCK.match(text.strip())
    if clock:
        local = now.astimezone(tz)
        at = local.replace(hour=int(clock[1]), minute=int(clock[2]), second=0, microsecond=0)
        if at <= local:
            at = (at.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)
        return at.astimezone(UTC)
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(422, "departure", "must be an RFC 3339 time or HH:MM") from exc
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    if at <= now:
        raise ApiError(422, "departure", "must be in the future")
    return at.astimezone(UTC)
