"""The SoC stream: evcc's vehicleSoc merged with provider readings, newest per vehicle.

evcc reports no measurement time. A value is stamped with the poll that first showed it
changed, so a stale number evcc still shows at plug-in keeps its old stamp and a fresh
cloud reading wins over it; when evcc polls the car at plug-in the value changes and
evcc's reading is the newer one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops

from smartload.domain import RefreshOutcome, SiteState, SocReading

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
            if last.get(vehicle) != lp.vehicle_soc_pct:
                last[vehicle] = lp.vehicle_soc_pct
                out.append(SocReading(vehicle, lp.vehicle_soc_pct, "evcc", state.at, state.at))
        return out

    return readings


def evcc_socs(states: Observable[SiteState], names: Mapping[str, str] | None = None) -> Observable[SocReading]:
    """One reading per change of a connected, identified vehicle's vehicleSoc."""
    return rx.defer(lambda _: states.pipe(ops.flat_map(_evcc_reading_mapper(names or {}))))


def provider_socs(outcomes: Observable[RefreshOutcome]) -> Observable[SocReading]:
    return outcomes.pipe(
        ops.filter(lambda o: o.reading is not None),
        ops.map(lambda o: o.reading),  # type: ignore[arg-type, return-value]
    )


def _newer(table: SocTable, reading: SocReading) -> SocTable:
    current = table.get(reading.vehicle)
    if current is not None and current.measured_at > reading.measured_at:
        return table
    return MappingProxyType({**table, reading.vehicle: reading})


def latest_socs(readings: Observable[SocReading]) -> Observable[SocTable]:
    """The newest reading per vehicle (by measured_at; ties go to the later arrival)."""
    empty: SocTable = MappingProxyType({})
    return readings.pipe(ops.scan(_newer, empty), ops.distinct_until_changed(comparer=lambda a, b: a is b))
