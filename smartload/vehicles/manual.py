"""A SoC a person entered, with the time they say it was true.

Values are kept in one small JSON file in the data directory (manual_soc.json, keyed by
vehicle), written atomically, so they survive a restart. `fetch` calls nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import reactivex as rx
from reactivex import Observable

from smartload.domain import SocReading
from smartload.settings.providers import ManualSettings
from smartload.timefmt import iso_utc, parse_iso
from smartload.vehicles.base import ProviderUnsupported
from smartload.vehicles.budget import utc_now

FILE_NAME = "manual_soc.json"
SOURCE = "manual"
# A phone's clock may run a little ahead of ours.
_FUTURE_SLACK = timedelta(minutes=5)


class ManualProvider:
    name = SOURCE

    def __init__(
        self, vehicle: str, spec: ManualSettings, data_dir: Path, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.vehicle = vehicle
        self._spec = spec
        self.path = Path(data_dir) / FILE_NAME
        self._clock = clock

    def __repr__(self) -> str:
        return f"ManualProvider({self.vehicle!r}, {str(self.path)!r})"

    def set(self, vehicle: str, soc_pct: float, at: datetime | None = None) -> SocReading:
        """Record a value (at: when it was true; None means now). Raises ValueError."""
        now = self._clock()
        at = now if at is None else at
        if at.tzinfo is None:
            raise ValueError("at must carry a time zone")
        if not 0.0 <= soc_pct <= 100.0:
            raise ValueError(f"soc_pct must be within 0..100, not {soc_pct}")
        if at - now > _FUTURE_SLACK:
            raise ValueError(f"at lies in the future: {at.isoformat()}")
        entries = self._load()
        entries[vehicle] = {
            "soc_pct": float(soc_pct),
            "at": iso_utc(at),
            "set_at": iso_utc(now),
        }
        self._save(entries)
        return self._reading(vehicle, entries[vehicle], now)

    def get(self, vehicle: str) -> SocReading | None:
        entry = self._load().get(vehicle)
        return None if entry is None else self._reading(vehicle, entry, self._clock())

    def fetch(self, vehicle: str) -> Observable[SocReading]:
        def answer(_: object) -> Observable[SocReading]:
            try:
                reading = self.get(vehicle)
            except ValueError as exc:
                return rx.throw(ProviderUnsupported(f"manual: {self.path.name} is unreadable ({exc})"))
            if reading is None:
                return rx.throw(ProviderUnsupported(f"manual: no SoC entered for {vehicle}"))
            max_age = self._spec.max_age
            if max_age is not None and reading.age_s(reading.received_at) > max_age.total_seconds():
                return rx.throw(ProviderUnsupported(f"manual: the SoC entered for {vehicle} is older than {max_age}"))
            return rx.of(reading)

        return rx.defer(answer)

    @staticmethod
    def _reading(vehicle: str, entry: dict[str, Any], now: datetime) -> SocReading:
        measured = parse_iso(entry["at"])
        return SocReading(vehicle, float(entry["soc_pct"]), SOURCE, measured, now)

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ValueError(str(exc)) from None
        if not isinstance(loaded, dict):
            raise ValueError("not a JSON object")
        return loaded

    def _save(self, entries: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename: a crash leaves the old file or the new one.
        fd, tmp = tempfile.mkstemp(prefix=".manual_soc.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(entries, out, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def build(
    vehicle: str, spec: ManualSettings, *, data_dir: Path, clock: Callable[[], datetime] = utc_now
) -> ManualProvider:
    return ManualProvider(vehicle, spec, data_dir, clock)
