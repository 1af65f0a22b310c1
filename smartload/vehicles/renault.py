"""Renault / Dacia SoC via renault-api (MyRenault: Gigya login, Kamereon data).

One refresh is one battery-status GET once the session is warm; the first one also
logs in and finds the car (login, JWT, person, account vehicles). The battery status is
what the car last pushed (there is no wake-up call), stamped with the car's timestamp.
The quota is per account, undocumented and shared with the MyRenault app: after a quota
error nothing is asked for at least `quota_cooldown` (15 min, as Home Assistant does).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from loguru import logger
from reactivex import Observable

from smartload.domain import SocReading
from smartload.settings.providers import RenaultSettings
from smartload.vehicles.base import ProviderError, ProviderUnsupported, from_coroutine
from smartload.vehicles.budget import CallBudget, utc_now
from smartload.vehicles.http_json import parse_timestamp
from smartload.vehicles.secrets import Scrubber, reveal

if TYPE_CHECKING:
    import aiohttp
    from renault_api.kamereon.models import KamereonVehicleBatteryStatusData
    from renault_api.renault_session import RenaultSession
    from renault_api.renault_vehicle import RenaultVehicle

SOURCE = "renault"


class _AuthFailed(Exception):
    """Kamereon or Gigya rejected our credentials (JWT or login token)."""


class RenaultProvider:
    name = SOURCE

    def __init__(
        self,
        vehicle: str,
        spec: RenaultSettings,
        tz: tzinfo,
        clock: Callable[[], datetime] = utc_now,
        locale_details: Mapping[str, str] | None = None,
    ) -> None:
        self.vehicle = vehicle
        self._spec = spec
        self._tz = tz
        self._clock = clock
        self._locale_details = dict(locale_details) if locale_details else None
        self.budget = CallBudget(f"renault {vehicle}", spec.budget, tz, clock)
        self._scrub = Scrubber([spec.password])
        self._http: aiohttp.ClientSession | None = None
        self._session: RenaultSession | None = None
        self._car: RenaultVehicle | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"RenaultProvider({self.vehicle!r}, vin={self._spec.vin!r})"

    def fetch(self, vehicle: str) -> Observable[SocReading]:
        return from_coroutine(lambda: self._fetch(vehicle))

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http, self._session, self._car = None, None, None

    async def _fetch(self, vehicle: str) -> SocReading:
        if vehicle != self.vehicle:
            raise ProviderUnsupported(f"renault is configured for {self.vehicle}, not {vehicle}")
        self.budget.take()
        async with self._lock:
            try:
                status = await self._battery_status()
            except ProviderUnsupported:
                raise
            except Exception as exc:
                raise self._error(exc) from None
        received = self._clock()
        if status.batteryLevel is None:
            raise self._failed("battery-status has no batteryLevel")
        measured_at, known = received, False
        if status.timestamp:
            try:
                measured_at, known = parse_timestamp(status.timestamp, self._tz), True
            except ValueError:
                raise self._failed(f"battery-status timestamp {status.timestamp!r} is not ISO 8601") from None
        self.budget.succeeded()
        return SocReading(self.vehicle, float(status.batteryLevel), SOURCE, measured_at, received, known)

    def _renault_session(self) -> RenaultSession:
        import aiohttp
        from renault_api.renault_session import RenaultSession

        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self._spec.request_timeout.total_seconds())
            self._http = aiohttp.ClientSession(timeout=timeout)
            self._session = RenaultSession(
                websession=self._http,
                locale=self._spec.locale,
                country=self._spec.locale[-2:],
                locale_details=dict(self._locale_details) if self._locale_details else None,
            )
        return self._session

    async def _login(self, session: RenaultSession) -> None:
        await session.login(self._spec.username, reveal(self._spec.password))
        self._scrub.add(session.login_token)

    async def _battery_status(self) -> KamereonVehicleBatteryStatusData:
        session = self._renault_session()
        if session.login_token is None:
            await self._login(session)
        try:
            return await self._read(session)
        except _AuthFailed:
            # The JWT or the login token was revoked or has expired: log in once more.
            logger.info("renault {}: session rejected, logging in again", self.vehicle)
            await self._login(session)
        try:
            return await self._read(session)
        except _AuthFailed:
            raise ProviderError("renault: credentials rejected again right after a new login") from None

    async def _read(self, session: RenaultSession) -> KamereonVehicleBatteryStatusData:
        import aiohttp
        from renault_api.exceptions import NotAuthenticatedException
        from renault_api.kamereon.exceptions import ForbiddenException, UnauthorizedException

        try:
            car = self._car or await self._find_car(session)
            self._car = car
            return await car.get_battery_status()
        except (NotAuthenticatedException, UnauthorizedException, ForbiddenException) as exc:
            raise _AuthFailed from exc
        except aiohttp.ClientResponseError as exc:
            if exc.status in (401, 403):
                raise _AuthFailed from exc
            raise

    async def _find_car(self, session: RenaultSession) -> RenaultVehicle:
        from renault_api.renault_account import RenaultAccount

        if self._spec.account_id:
            account_ids = [self._spec.account_id]
        else:
            person = await session.get_person()
            account_ids = [
                a.accountId for a in person.accounts or [] if a.accountId and a.accountType == "MYRENAULT"
            ]
        cars: list[RenaultVehicle] = []
        for account_id in account_ids:
            cars.extend(await RenaultAccount(account_id, session=session).get_api_vehicles())
        if self._spec.vin is not None:
            cars = [c for c in cars if c.vin == self._spec.vin]
            if not cars:
                raise ProviderUnsupported(f"renault: no car with VIN {self._spec.vin} in the account")
        if len(cars) != 1:
            found = ", ".join(c.vin for c in cars) or "none"
            raise ProviderUnsupported(f"renault: set vin to pick one car of the account (found {found})")
        return cars[0]

    def _failed(self, message: str, retry_after_s: float | None = None) -> ProviderError:
        wait = self.budget.failed(retry_after_s)
        return ProviderError(f"renault: {self._scrub.scrub(message)}", retry_after_s=wait)

    def _error(self, exc: Exception) -> Exception:
        """Map a library exception to ProviderError (with backoff) or ProviderUnsupported."""
        import aiohttp
        from renault_api.exceptions import EndpointNotAvailableError
        from renault_api.gigya.exceptions import (
            GigyaResponseException,
            InvalidCredentialsException,
            PendingTwoFactorAuthenticationException,
        )
        from renault_api.kamereon.exceptions import (
            AccessDeniedException,
            KamereonResponseException,
            NotSupportedException,
            QuotaLimitException,
            ResourceNotFoundException,
        )

        long_wait = self._spec.budget.backoff_max.total_seconds()
        if isinstance(exc, ProviderError):
            return self._failed(str(exc).removeprefix("renault: "), long_wait)
        if isinstance(exc, QuotaLimitException):
            logger.warning("renault {}: account quota reached, pausing", self.vehicle)
            return self._failed("quota limit reached", self._spec.quota_cooldown.total_seconds())
        if isinstance(exc, EndpointNotAvailableError | AccessDeniedException | NotSupportedException):
            return ProviderUnsupported(f"renault: battery status not available for this car ({type(exc).__name__})")
        if isinstance(exc, ResourceNotFoundException):
            return ProviderUnsupported("renault: car not found in the account")
        # Retrying a wrong password or a pending two-factor login would only lock the account.
        if isinstance(exc, PendingTwoFactorAuthenticationException):
            return self._failed("login needs two-factor authentication (e-mail code); not supported", long_wait)
        if isinstance(exc, InvalidCredentialsException):
            return self._failed("login rejected: check username and password", long_wait)
        if isinstance(exc, GigyaResponseException):
            return self._failed(f"login service error {exc.error_code}")
        if isinstance(exc, KamereonResponseException):
            return self._failed(f"Kamereon error {exc.error_code}: {exc.error_details or ''}".strip())
        if isinstance(exc, TimeoutError):
            return self._failed(f"no answer within {self._spec.request_timeout.total_seconds():g} s")
        if isinstance(exc, aiohttp.ClientResponseError):
            retry_after = _retry_after(exc.headers) if exc.status == 429 else None
            return self._failed(f"HTTP {exc.status}", retry_after)
        if isinstance(exc, aiohttp.ClientError):
            return self._failed(f"request failed ({self._scrub.describe(exc)})")
        return self._failed(f"unexpected reply ({self._scrub.describe(exc)})")


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers else None
    return float(value) if value and str(value).isdigit() else None


def build(
    vehicle: str,
    spec: RenaultSettings,
    *,
    tz: tzinfo,
    clock: Callable[[], datetime] = utc_now,
    locale_details: Mapping[str, str] | None = None,
) -> RenaultProvider:
    """`locale_details` (renault_api.const CONF_* keys) overrides the servers and API
    keys the locale selects, e.g. to point at a local replay server."""
    return RenaultProvider(vehicle, spec, tz, clock, locale_details)
