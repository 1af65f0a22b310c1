"""The SoC stream: evcc's vehicleSoc merged with provider readings, newest per vehicle.

evcc reports no measurement time, and shows a car's last known SoC at plug-in however old
it is. So a value is stamped with the poll that showed it *change*; the first value we
ever see of a car has an unknown time (measured_at_known False) and gives way to any
reading with a known time, such as a fresh cloud answer. When evcc reads the car at
plug-in, the value changes and evcc's reading counts as new.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops

from smartload.domain import RefreshOutcome, SiteState, SocReading
from smartload.streams.sync import expand

SocTable = Mapping[str, SocReading]


def _evcc_reading_mapper(names: Mapping[str, str]) -> Callable[[SiteState], list[SocReading]]:
    last: dict[str, float] = {}

    def readings(state: SiteState) -> list[SocReading]:
        out = []
        for lp in state.loadpoints:
            name = lp.identified_vehicle
            if not lp.connected or name is None or lp.vehicle_soc_pct is None:
                continue
            vehicle = names.get(name, name)
            previous = last.get(vehicle)
            if previous != lp.vehicle_soc_pct:
                last[vehicle] = lp.vehicle_soc_pct
                out.append(SocReading(vehicle, lp.vehicle_soc_pct, "evcc", state.at, state.at, previous is not None))
        return out

    return readings


def evcc_socs(states: Observable[SiteState], names: Mapping[str, str] | None = None) -> Observable[SocReading]:
    """One reading per change of a connected, identified vehicle's vehicleSoc."""
    return rx.defer(lambda _: states.pipe(expand(_evcc_reading_mapper(names or {}))))


def provider_socs(outcomes: Observable[RefreshOutcome]) -> Observable[SocReading]:
    def has_reading(outcome: RefreshOutcome) -> bool:
        return outcome.reading is not None

    def reading(outcome: RefreshOutcome) -> SocReading:
        # has_reading passed only outcomes with a reading; reactivex's filter cannot narrow.
        return outcome.reading  # type: ignore[return-value]

    return outcomes.pipe(ops.filter(has_reading), ops.map(reading))


def supersedes(new: SocReading, current: SocReading | None) -> bool:
    if current is None or new.measured_at_known != current.measured_at_known:
        return current is None or new.measured_at_known
    return new.measured_at >= current.measured_at


def _newer(table: SocTable, reading: SocReading) -> SocTable:
    if not supersedes(reading, table.get(reading.vehicle)):
        return table
    return MappingProxyType({**table, reading.vehicle: reading})


def latest_socs(readings: Observable[SocReading]) -> Observable[SocTable]:
    """The newest reading per vehicle: a known measurement time beats an unknown one, then
    the later measured_at wins (ties go to the later arrival)."""
    empty: SocTable = MappingProxyType({})
    return readings.pipe(ops.scan(_newer, empty), ops.distinct_until_changed(comparer=lambda a, b: a is b))
