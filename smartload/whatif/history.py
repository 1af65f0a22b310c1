"""What a running installation would have learned before a what-if period.

A what-if period otherwise starts as a fresh install: no house-load profile (the constant
`planning.house_load_w` until each quarter-hour has been seen) and no driver habits (no
expected arrivals until each car has been seen leaving and coming back). A real
installation has run for months before any given week. Here the same learners the
service runs (HouseProfile, HabitBook) are fed the weeks before the period as the
simulator would have played them for this site and seed: the house model's load at every
poll, and each car's stays (home_stays: the seeded trips, each car leaving with what
its target gave it and back with that less the trip). What they hold at the period's
start is restored into smartload's store, as a restart restores it from the data
directory.

What the history idealises: a car's arrival is learned when it could plug in, even
where a shared wallbox kept it waiting (the service then learns it only from a cloud
reading, or not at all), and its departures as the schedule's requests announce them.
Only the house model's load is learned: a heat pump at a loadpoint depends on what
smartload did, so a scenario with one is refused rather than given a wrong profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smartload.habits import CarHabits, HabitBook
from smartload.requests import next_departure
from smartload.settings import Settings
from smartload.sim.days import day_of
from smartload.sim.house import HouseModel
from smartload.sim.scenario import Scenario
from smartload.sinks.habit_watch import cold_starts
from smartload.sinks.house_profile import BinKey, HouseProfile
from smartload.whatif.household import home_stays


@dataclass(frozen=True)
class Learned:
    """What the learners hold after `weeks` weeks before the period (from `since`)."""

    weeks: int
    since: datetime
    house: dict[BinKey, float]
    habits: dict[str, CarHabits]

    def record(self) -> dict[str, Any]:
        """The report's account of it."""
        seen = {name: sum(d.arrivals + d.departures for d in car.days.values()) for name, car in self.habits.items()}
        weeks = f"{self.weeks} week{'s' if self.weeks != 1 else ''}"
        return {
            "weeks": self.weeks, "since": self.since.isoformat(),
            "house_quarter_hours": len(self.house), "habit_observations": seen,
            "text": f"smartload starts with the house-load profile and driver habits learned from the {weeks} "
                    f"before the period (from {self.since.date().isoformat()}), as the site and its cars would "
                    "have played them; the other strategies learn nothing",
        }


def learned_house(scenario: Scenario, since: datetime, until: datetime, seed: int, settings: Settings,
                  poll: timedelta) -> dict[BinKey, float]:
    """The house-load profile after observing the house model at every poll in [since, until)."""
    heat_pumps = [lp.title for lp in scenario.loadpoints if lp.device == "heatpump"]
    if heat_pumps:
        raise ValueError(f"a learned history covers the house model only; {scenario.title!r} has a heat pump "
                         f"({', '.join(heat_pumps)}) whose load depends on the strategy")
    planning = settings.planning
    tz = scenario.tz
    model = HouseModel(scenario.house, tz, seed)
    profile = HouseProfile(tz, planning.house_load_w, planning.house_load_learning_per_min)
    t, end, step = since.timestamp(), until.timestamp(), poll.total_seconds()
    while t < end:
        day = day_of(t, tz)
        minutes = model.minutes(day)
        while t < min(end, day.end):
            profile.observe(datetime.fromtimestamp(t, tz), minutes[min(int((t - day.start) // 60), len(minutes) - 1)])
            t += step
    return profile.learned()


def learned_habits(scenario: Scenario, since: datetime, until: datetime, seed: int, settings: Settings,
                   targets: dict[str, float]) -> dict[str, CarHabits]:
    """The driver habits after each car's stays in [since, until): it leaves at each stay's
    end with what it had then (its target, if it came back below it) and is back at the
    next stay's start with what the trip left. Nothing, if habits are not learned."""
    planning = settings.planning
    if not planning.learn_habits:
        return {}
    tz = settings.site.tz
    book = HabitBook(tz, planning.habit_learning_rate, cold_starts(settings))
    stays = home_stays(scenario, since, until, seed, targets)
    for name in scenario.vehicles:
        schedule = settings.vehicles[name].departures or planning.departures
        for stay in sorted((s for s in stays if s.vehicle == name), key=lambda s: s.plug_from):
            book.arrived(name, stay.plug_from, stay.soc_on_arrival_pct)
            if stay.departure is None:
                continue
            # The schedule's request in force at the unplug: its next departure, if that
            # is near enough to be the one the car leaves for (Sequencer._leaves_for).
            given = next_departure(stay.departure, schedule, tz)
            announced = given if given is not None and given - stay.departure <= planning.early_departure_max \
                else None
            book.departed(name, stay.departure, max(targets[name], stay.soc_on_arrival_pct), announced)
    return book.state()


def learn_before(scenario: Scenario, start: datetime, weeks: int, seed: int, settings: Settings,
                 targets: dict[str, float], poll: timedelta) -> Learned:
    """What smartload would hold at `start` after running `weeks` weeks on this site."""
    if weeks < 1:
        raise ValueError("a learned history needs at least one week")
    # Whole local days: the same wall-clock time `weeks` weeks earlier, DST or not.
    local = start.astimezone(scenario.tz)
    since = (local.replace(tzinfo=None) - timedelta(weeks=weeks)).replace(tzinfo=scenario.tz)
    return Learned(weeks, since, learned_house(scenario, since, start, seed, settings, poll),
                   learned_habits(scenario, since, start, seed, settings, targets))
