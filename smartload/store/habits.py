"""The learned driver habits (smartload/habits.py), kept in the data directory's SQLite
file so a restart does not forget when the cars come home."""

from __future__ import annotations

from collections.abc import Mapping

from smartload.habits import CarHabits, DayHabit
from smartload.store.database import Database

_DAY_COLUMNS = ("arrive_min", "arrive_soc_pct", "drop_pct", "arrive_p", "depart_min", "arrivals", "departures")


class HabitStore:
    """The habit_days and habit_cars tables of the process's Database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self) -> dict[str, CarHabits]:
        days: dict[str, dict[int, DayHabit]] = {}
        for vehicle, weekday, *values in self._db.query(
                f"SELECT vehicle, weekday, {', '.join(_DAY_COLUMNS)} FROM habit_days"):
            days.setdefault(str(vehicle), {})[int(weekday)] = DayHabit(*values)
        cars = {str(v): (share, minutes) for v, share, minutes in
                self._db.query("SELECT vehicle, early_share, early_min FROM habit_cars")}
        out = {}
        for vehicle in sorted(days.keys() | cars.keys()):
            share, minutes = cars.get(vehicle, (None, None))
            out[vehicle] = CarHabits(days.get(vehicle, {}), share, minutes)
        return out

    def save(self, learned: Mapping[str, CarHabits]) -> None:
        placeholders = ", ".join("?" * (2 + len(_DAY_COLUMNS)))
        updates = ", ".join(f"{c} = excluded.{c}" for c in _DAY_COLUMNS)
        with self._db.transaction() as tx:
            tx.executemany(
                f"INSERT INTO habit_days (vehicle, weekday, {', '.join(_DAY_COLUMNS)}) VALUES ({placeholders})"
                f" ON CONFLICT (vehicle, weekday) DO UPDATE SET {updates}",
                [(vehicle, weekday, *(getattr(day, c) for c in _DAY_COLUMNS))
                 for vehicle, car in learned.items() for weekday, day in car.days.items()],
            )
            tx.executemany(
                "INSERT INTO habit_cars (vehicle, early_share, early_min) VALUES (?, ?, ?)"
                " ON CONFLICT (vehicle) DO UPDATE SET early_share = excluded.early_share,"
                " early_min = excluded.early_min",
                [(vehicle, car.early_share, car.early_min) for vehicle, car in learned.items()],
            )
