"""The provider protocol every vehicle SoC source implements.

A provider returns a *cold* Observable per request rather than a coroutine, so the same
refresh stream runs live (async HTTP wrapped by `from_coroutine`) and in virtual time
(the fake provider's latency is an Rx timer on the subscribe scheduler).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from smartload.domain import SocReading

if TYPE_CHECKING:
    from reactivex import Observable

T = TypeVar("T")


class ProviderError(Exception):
    """A provider failed in a way worth retrying later (timeout, 5xx, 429, bad body)."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ProviderUnsupported(Exception):
    """The provider cannot answer for this vehicle now (e.g. passive and the car is away)."""


@runtime_checkable
class VehicleProvider(Protocol):
    """Asks one car's source for its SoC.

    `fetch` returns a cold Observable that emits one SocReading and completes, or errors
    with ProviderError / ProviderUnsupported. measured_at is what the source reports,
    never the request time. Nothing may happen before subscription.
    """

    name: str

    def fetch(self, vehicle: str) -> Observable[SocReading]: ...


def from_coroutine(factory: Callable[[], Awaitable[T]]) -> Observable[T]:
    """A cold Observable that runs a fresh coroutine per subscription (retryable, §1.6.1)."""
    # Imported here: `check-config` builds providers to judge their settings and must not
    # pay for asyncio and reactivex (issue 19's start-up budget).
    import asyncio

    import reactivex as rx

    def subscribe(_scheduler: object) -> Observable[T]:
        return rx.from_future(asyncio.ensure_future(factory()))

    return rx.defer(subscribe)
