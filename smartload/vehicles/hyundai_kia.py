"""Kia / Hyundai (EU) SoC via hyundai-kia-connect-api (optional extra, Python >= 3.12).

The library is synchronous (requests), so every call runs in a worker thread. Two
kinds of call with separate budgets: a cached read (what the car last sent; about 4
HTTP calls) and a forced refresh that wakes the car's modem (5 calls and a 25 s wait).
A forced refresh follows a cached read only when that reading is older than
`forced.stale_after`, outside the quiet hours, within its own small daily budget: each
one drains the 12 V battery a little. The EU cloud allows about 200 calls per account
and day; after its rate-limit answer (resCode 5091) nothing is asked before midnight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from loguru import logger
from reactivex import Observable

from smartload.domain import SocReading
from smartload.settings.providers import HyundaiKiaSettings
from smartload.vehicles.base import ProviderError, ProviderUnsupported, from_coroutine
from smartload.vehicles.budget import CallBudget, utc_now
from smartload.vehicles.secrets import Scrubber, reveal

if TYPE_CHECKING:
    from hyundai_kia_connect_api import VehicleManager

_BRANDS = {"kia": 1, "hyundai": 2}
_REGION_EUROPE = 1
# KiaUvoApiEU instance attributes holding its servers (overridable for a replay server).
API_URL_ATTRIBUTES = ("BASE_URL", "USER_API_URL", "SPA_API_URL", "SPA_API_URL_V2", "LOGIN_FORM_HOST", "CCI_API_URL")


@dataclass(frozen=True, slots=True)
class _Snapshot:
    soc_pct: float | None
    measured_at: datetime | None


class _HttpStatus(Exception):
    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class _RejectedAgain(Exception):
    pass


def _rejected(exc: Exception) -> bool:
    """The cloud refused our token (not: a one-time code is needed, which no retry fixes)."""
    from hyundai_kia_connect_api.exceptions import AuthenticationError, AuthenticationOTPRequired

    if isinstance(exc, _HttpStatus):
        return exc.status in (401, 403)
    return isinstance(exc, AuthenticationError) and not isinstance(exc, AuthenticationOTPRequired)


def _status_hook(response: Any, *_: Any, **__: Any) -> Any:
    """Turn an HTTP error the library would misread as a body into an exception.

    JSON error envelopes (retCode/resCode, "error") are left to the library, which maps
    them (5091 rate limit, 7501 authentication, ...); 404 is how the cloud says a
    side endpoint (parking place, driving history) has no data, which it tolerates."""
    if response.status_code < 400 or response.status_code == 404:
        return response
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("retCode" in body or "error" in body):
        return response
    raise _HttpStatus(response.status_code, response.headers.get("Retry-After"))


class HyundaiKiaProvider:
    def __init__(
        self,
        vehicle: str,
        spec: HyundaiKiaSettings,
        tz: tzinfo,
        clock: Callable[[], datetime] = utc_now,
        api_urls: Mapping[str, str] | None = None,
        token: Any = None,
    ) -> None:
        unknown = set(api_urls or {}) - set(API_URL_ATTRIBUTES)
        if unknown:
            raise ValueError(f"unknown API URL attributes: {sorted(unknown)}")
        self.name: str = spec.type
        self.vehicle = vehicle
        self._spec = spec
        self._tz = tz
        self._clock = clock
        self._api_urls = dict(api_urls or {})
        self._token = token
        self.cached_budget = CallBudget(f"{spec.type} {vehicle} cached", spec.cached, tz, clock)
        self.forced_budget = CallBudget(f"{spec.type} {vehicle} forced", spec.forced.budget, tz, clock)
        self._scrub = Scrubber([spec.password, spec.pin])
        self._manager: VehicleManager | None = None
        self._vehicle_id: str | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"HyundaiKiaProvider({self.name!r}, {self.vehicle!r}, vin={self._spec.vin!r})"

    def fetch(self, vehicle: str) -> Observable[SocReading]:
        return from_coroutine(lambda: self._fetch(vehicle))

    async def aclose(self) -> None:
        async with self._lock:
            if self._manager is not None:
                self._manager.api.session.close()
                self._manager, self._vehicle_id = None, None

    async def _fetch(self, vehicle: str) -> SocReading:
        if vehicle != self.vehicle:
            raise ProviderUnsupported(f"{self.name} is configured for {self.vehicle}, not {vehicle}")
        self.cached_budget.take()
        async with self._lock:
            try:
                snapshot = await asyncio.to_thread(self._with_relogin, self._cached_read)
            except ProviderUnsupported:
                raise
            except Exception as exc:
                raise self._error(exc, self.cached_budget) from None
            reading = self._reading(snapshot, self.cached_budget)
            self.cached_budget.succeeded()
            if not self._wake_due(reading):
                return reading
            self.forced_budget.take()
            try:
                snapshot = await asyncio.to_thread(self._with_relogin, self._forced_read)
                forced = self._reading(snapshot, self.forced_budget)
            except Exception as exc:
                error = exc if isinstance(exc, ProviderError) else self._error(exc, self.forced_budget)
                logger.warning("{}: waking the car failed ({}); using the cached SoC", self.vehicle, error)
                return reading
            self.forced_budget.succeeded()
            return forced

    def _wake_due(self, cached: SocReading) -> bool:
        forced = self._spec.forced
        now = self._clock()
        if not forced.enabled or forced.quiet(now.astimezone(self._tz).time()):
            return False
        if cached.measured_at_known and now - cached.measured_at <= forced.stale_after:
            return False
        return self.forced_budget.refusal(now) is None

    def _reading(self, snapshot: _Snapshot, budget: CallBudget) -> SocReading:
        received = self._clock()
        if snapshot.soc_pct is None:
            wait = budget.failed()
            raise ProviderError(f"{self.name}: the reply holds no battery SoC", retry_after_s=wait)
        measured, known = (snapshot.measured_at, True) if snapshot.measured_at else (received, False)
        return SocReading(self.vehicle, float(snapshot.soc_pct), self.name, measured, received, known)

    # --- worker thread -------------------------------------------------------------

    def _vm(self) -> VehicleManager:
        if self._manager is None:
            from hyundai_kia_connect_api import VehicleManager

            spec = self._spec
            manager = VehicleManager(
                region=_REGION_EUROPE,
                brand=_BRANDS[spec.type],
                username=spec.username,
                password=reveal(spec.password),
                pin=reveal(spec.pin),
                token=self._token,
                language=spec.language,
            )
            for attribute, url in self._api_urls.items():
                setattr(manager.api, attribute, url)
            session = manager.api.session
            session.HTTP_CONNECT_TIMEOUT = session.HTTP_READ_TIMEOUT = spec.request_timeout.total_seconds()
            session.hooks["response"].append(_status_hook)
            self._manager = manager
        return self._manager

    def _session_ready(self) -> VehicleManager:
        vm = self._vm()
        vm.check_and_refresh_token()
        self._learn_token(vm)
        if self._vehicle_id is None:
            cars = list(vm.vehicles.values())
            if self._spec.vin is not None:
                wanted = self._spec.vin
                cars = [c for c in cars if wanted == c.VIN]
                if not cars:
                    raise ProviderUnsupported(f"{self.name}: no car with VIN {self._spec.vin} in the account")
            if len(cars) != 1:
                found = ", ".join(str(c.VIN) for c in cars) or "none"
                raise ProviderUnsupported(f"{self.name}: set vin to pick one car of the account (found {found})")
            self._vehicle_id = cars[0].id
        return vm

    def _learn_token(self, vm: VehicleManager) -> None:
        token = vm.token
        if token is not None:
            for value in (token.access_token, token.refresh_token, token.cci_access_token, token.non_ccs_token,
                          token.exchangeable_token, token.id_token):
                self._scrub.add(value)

    def _cached_read(self) -> _Snapshot:
        vm = self._session_ready()
        assert self._vehicle_id is not None
        vm.update_vehicle_with_cached_state(self._vehicle_id)
        return self._snapshot(vm)

    def _forced_read(self) -> _Snapshot:
        vm = self._session_ready()
        assert self._vehicle_id is not None
        vm.force_refresh_vehicle_state(self._vehicle_id)
        return self._snapshot(vm)

    def _snapshot(self, vm: VehicleManager) -> _Snapshot:
        car = vm.get_vehicle(self._vehicle_id)
        data = car.data if isinstance(car.data, dict) else {}
        raw_status = data.get("vehicleStatus")
        status = raw_status if isinstance(raw_status, dict) else {}
        # Without a time in the reply the library stamps "now": that is not a measurement time.
        stamped = bool(data.get("Date") or status.get("time"))
        measured = car.last_updated_at.astimezone(UTC) if stamped and car.last_updated_at else None
        return _Snapshot(car.ev_battery_percentage, measured)

    def _with_relogin(self, action: Callable[[], _Snapshot]) -> _Snapshot:
        try:
            return action()
        except Exception as exc:
            if not _rejected(exc):
                raise
        # The token was revoked or expired early: refresh it (or log in) once, then retry.
        logger.info("{}: token rejected, logging in again", self.vehicle)
        vm = self._vm()
        if vm.token is not None:
            vm.token.valid_until = datetime.min.replace(tzinfo=UTC)
        try:
            return action()
        except Exception as exc:
            if not _rejected(exc):
                raise
            raise _RejectedAgain from None

    # --- errors --------------------------------------------------------------------

    def _error(self, exc: Exception, budget: CallBudget) -> Exception:
        import requests
        from hyundai_kia_connect_api.exceptions import (
            APIError,
            AuthenticationError,
            AuthenticationOTPRequired,
            RateLimitingError,
            RequestTimeoutError,
        )

        def failed(message: str, retry_after_s: float | None = None) -> ProviderError:
            wait = budget.failed(retry_after_s)
            return ProviderError(f"{self.name}: {self._scrub.scrub(message)}", retry_after_s=wait)

        long_wait = budget.settings.backoff_max.total_seconds()
        if isinstance(exc, RateLimitingError):
            # The account's daily quota is gone: every call, cached or forced, fails until tomorrow.
            logger.warning("{}: {} daily request limit reached; pausing until midnight", self.vehicle, self.name)
            self.forced_budget.block_until_tomorrow()
            wait = self.cached_budget.block_until_tomorrow()
            return ProviderError(f"{self.name}: daily request limit reached (5091)", retry_after_s=wait)
        if isinstance(exc, _RejectedAgain):
            return failed("credentials rejected again right after a new login", long_wait)
        if isinstance(exc, AuthenticationOTPRequired):
            return failed("login needs a one-time code; not supported", long_wait)
        if isinstance(exc, AuthenticationError):
            return failed(f"login failed ({self._scrub.describe(exc)})", long_wait)
        if isinstance(exc, RequestTimeoutError):
            return failed(f"no answer in time ({self._scrub.describe(exc)})")
        if isinstance(exc, _HttpStatus):
            retry_after = float(exc.retry_after) if exc.retry_after and exc.retry_after.isdigit() else None
            return failed(f"HTTP {exc.status}", retry_after if exc.status in (429, 503) else None)
        if isinstance(exc, APIError):
            return failed(f"cloud error ({self._scrub.describe(exc)})")
        # requests' JSONDecodeError is a RequestException too, but it means a bad body.
        if isinstance(exc, requests.RequestException) and not isinstance(exc, ValueError):
            return failed(f"request failed ({self._scrub.describe(exc)})")
        return failed(f"unexpected reply ({self._scrub.describe(exc)})")


def build(
    vehicle: str,
    spec: HyundaiKiaSettings,
    *,
    tz: tzinfo,
    clock: Callable[[], datetime] = utc_now,
    api_urls: Mapping[str, str] | None = None,
    token: Any = None,
) -> HyundaiKiaProvider:
    """`api_urls` overrides KiaUvoApiEU's server attributes (API_URL_ATTRIBUTES);
    `token` is a hyundai_kia_connect_api Token from an earlier login (skips the login).
    Raises ValueError when the library is not installed (it needs Python >= 3.12)."""
    if not available():
        raise ValueError(
            f"provider type {spec.type!r} needs hyundai-kia-connect-api, which needs Python >= 3.12: "
            "pip install 'smartload-evcc[kia]'"
        )
    return HyundaiKiaProvider(vehicle, spec, tz, clock, api_urls, token)


def available() -> bool:
    try:
        import hyundai_kia_connect_api  # noqa: F401
    except ImportError:
        return False
    return True
