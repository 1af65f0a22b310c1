"""The provider protocol every vehicle SoC source implements.

A provider returns a *cold* Observable per request rather than a coroutine, so the same
refresh stream runs live (async HTTP wrapped by `from_coroutine`) and in virtual time
(the fake provider's latency is an Rx timer on the subscribe scheduler).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, runtime_checkable

import reactivex as rx
from reactivex import Observable

from smartload.domain import SocReading

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

    def subscribe(_scheduler: object) -> Observable[T]:
        return rx.from_future(asyncio.ensure_future(factory()))

    return rx.defer(subscribe)
