"""SoC from any HTTP endpoint that answers JSON: Home Assistant, ioBroker, Node-RED, scripts.

The settings name the path to the SoC and, optionally, to its timestamp. Without a
timestamp the HTTP Date header stands in; without that the reading's age is unknown.
A URL "embedded:/cloud/<car>/soc" is resolved against the embedded simulator's address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from smartload.domain import SocReading
from smartload.settings.providers import EMBEDDED, HttpJsonSettings, normalise_path
from smartload.vehicles.base import ProviderError, ProviderUnsupported, from_coroutine
from smartload.vehicles.budget import CallBudget, utc_now
from smartload.vehicles.secrets import Scrubber, reveal

if TYPE_CHECKING:
    import httpx
    from reactivex import Observable

_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
# evcc's convention for custom vehicles: a non-2xx reply whose body is one of these words.
_EVCC_ERRORS = {"ErrAsleep": "the car is asleep", "ErrMustRetry": "retry later", "ErrNotAvailable": "not available"}


def extract(data: Any, path: str) -> Any:
    """The value at a dotted path with list indexes ("data.0.soc" or "data[0].soc").

    Raises KeyError naming the first step that is missing."""
    value = data
    for step in normalise_path(path).split("."):
        if isinstance(value, Mapping) and step in value:
            value = value[step]
        elif isinstance(value, Sequence) and not isinstance(value, str) and step.lstrip("-").isdigit():
            index = int(step)
            if not -len(value) <= index < len(value):
                raise KeyError(step)
            value = value[index]
        else:
            raise KeyError(step)
    return value


def parse_timestamp(value: Any, tz: tzinfo) -> datetime:
    """ISO 8601 (offset or Z; naive means the site's zone) or epoch seconds/milliseconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        value = float(value)
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=tz)
        return parsed.astimezone(UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def parse_soc(value: Any) -> float:
    """A percentage as a number or a numeric string (Home Assistant states are strings)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {value!r}")
    try:
        soc = float(value)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
    if not 0.0 <= soc <= 100.0:
        raise ValueError(f"not a percentage: {soc}")
    return soc


def resolve_url(url: str, embedded_base_url: str | None) -> str:
    if not url.startswith(EMBEDDED):
        return url
    if not embedded_base_url:
        raise ValueError(f"{url!r} needs the embedded simulator, which is not running here")
    return embedded_base_url.rstrip("/") + url.removeprefix(EMBEDDED)


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None


class HttpJsonProvider:
    def __init__(
        self,
        vehicle: str,
        spec: HttpJsonSettings,
        url: str,
        tz: tzinfo,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.name = spec.source
        self.vehicle = vehicle
        self._spec = spec
        self._url = url
        self._tz = tz
        self._clock = clock
        self.budget = CallBudget(f"{spec.source} {vehicle}", spec.budget, tz, clock)
        # A password in the URL's user info would otherwise show in errors.
        self._scrub = Scrubber([spec.password, *spec.headers.values(), urlsplit(url).password])
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"HttpJsonProvider({self.vehicle!r}, {self._scrub.scrub(self._url)!r})"

    def fetch(self, vehicle: str) -> Observable[SocReading]:
        return from_coroutine(lambda: self._fetch(vehicle))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        import httpx

        if self._client is None:
            spec = self._spec
            auth = httpx.BasicAuth(spec.username, reveal(spec.password)) if spec.username is not None else None
            self._client = httpx.AsyncClient(
                headers={k: reveal(v) for k, v in spec.headers.items()},
                auth=auth,
                timeout=spec.request_timeout.total_seconds(),
                verify=spec.verify_tls,
                follow_redirects=True,
            )
        return self._client

    def _fail(self, message: str, retry_after_s: float | None = None) -> ProviderError:
        wait = self.budget.failed(retry_after_s)
        return ProviderError(f"{self.name}: {self._scrub.scrub(message)}", retry_after_s=wait)

    async def _fetch(self, vehicle: str) -> SocReading:
        import httpx

        if vehicle != self.vehicle:
            raise ProviderUnsupported(f"{self.name} is configured for {self.vehicle}, not {vehicle}")
        self.budget.take()
        try:
            response = await self._http().request(self._spec.method, self._url, json=self._spec.body)
        except httpx.TimeoutException:
            raise self._fail(f"no answer within {self._spec.request_timeout.total_seconds():g} s") from None
        except httpx.HTTPError as exc:
            raise self._fail(f"request failed ({self._scrub.describe(exc)})") from None
        received = self._clock()
        if not response.is_success:
            raise self._status_error(response, received)
        try:
            body = json.loads(response.content)
        except ValueError:
            raise self._fail(f"HTTP {response.status_code} body is not JSON") from None
        try:
            soc = parse_soc(extract(body, self._spec.soc_path))
        except KeyError as exc:
            raise self._fail(f"no {self._spec.soc_path!r} in the reply (missing {exc.args[0]!r})") from None
        except ValueError as exc:
            raise self._fail(f"{self._spec.soc_path!r} is {exc}") from None
        measured_at, known = self._measured_at(body, response.headers.get("date"), received)
        self.budget.succeeded()
        return SocReading(self.vehicle, soc, self.name, measured_at, received, measured_at_known=known)

    def _status_error(self, response: httpx.Response, now: datetime) -> Exception:
        status = response.status_code
        word = response.text.strip()
        if word in _EVCC_ERRORS:
            if word == "ErrNotAvailable":
                return ProviderUnsupported(f"{self.name}: {_EVCC_ERRORS[word]} (HTTP {status})")
            return self._fail(f"{_EVCC_ERRORS[word]} (HTTP {status})")
        retry_after = _retry_after(response.headers.get("retry-after"), now) if status in (429, 503) else None
        hint = " (check the credentials)" if status in (401, 403) else ""
        return self._fail(f"HTTP {status}{hint}", retry_after)

    def _measured_at(self, body: Any, date_header: str | None, received: datetime) -> tuple[datetime, bool]:
        for path in self._spec.time_path:
            try:
                value = extract(body, path)
            except KeyError:
                continue
            if value is None or value == "":
                continue
            try:
                return parse_timestamp(value, self._tz), True
            except ValueError:
                raise self._fail(f"{path!r} is not a timestamp: {value!r}") from None
        if date_header:
            try:
                return parsedate_to_datetime(date_header).astimezone(UTC), True
            except (TypeError, ValueError):
                pass
        return received, False


def build(
    vehicle: str,
    spec: HttpJsonSettings,
    *,
    tz: tzinfo,
    clock: Callable[[], datetime] = utc_now,
    embedded_base_url: str | None = None,
) -> HttpJsonProvider:
    """Raises ValueError for an embedded: URL when no embedded simulator runs."""
    return HttpJsonProvider(vehicle, spec, resolve_url(spec.url, embedded_base_url), tz, clock)
