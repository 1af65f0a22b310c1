"""The passive provider: evcc's own vehicleSoc, while the car is assigned to a loadpoint.

It calls nothing; it answers with the newest reading the SoC stream took from evcc, so a
vehicle configured with it never costs a cloud call and still shows up in refreshes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from smartload.domain import SocReading
from smartload.vehicles.base import ProviderUnsupported

if TYPE_CHECKING:
    from reactivex import Observable


class EvccProvider:
    name = "evcc"

    def __init__(self, lookup: Callable[[str], SocReading | None]) -> None:
        self._lookup = lookup

    def fetch(self, vehicle: str) -> Observable[SocReading]:
        # Imported at the first fetch: check-config builds this provider without asyncio or Rx.
        import reactivex as rx
        from reactivex import operators as ops

        def answer(_: object) -> Observable[SocReading]:
            reading = self._lookup(vehicle)
            if reading is None:
                return rx.throw(ProviderUnsupported(f"evcc shows no SoC for {vehicle}"))
            return rx.of(reading)

        # Answer one scheduler turn later: the poll that produced the plug-in edge may not
        # yet have reached the SoC stream that feeds `lookup`.
        return rx.timer(0.0).pipe(ops.flat_map(lambda _: rx.defer(answer)))
