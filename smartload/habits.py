"""Driver habits: when each car usually comes home, how empty, and when it leaves.

A pure learner. The sequencer tells it what it sees (a car left, a car is back with this
SoC); it keeps, per car and per local weekday, exponential moving averages like the
house-load profile's: each new observation moves its weekday's mean by `rate` of the
difference, so old habits fade (0.25: a habit from four weeks ago weighs a third as much
as last week's). A weekday not yet seen borrows from the car's other days of the same
kind (workdays, weekend), then from any day, then from the settings' cold start
(`usual_arrival`, `usual_arrival_soc_pct`, `usual_departure`). Nothing here reads a
clock, a file or evcc: the store keeps `state()` and hands it back at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo

# pydantic (the API's schemas extend HabitSummary) reads TypedDicts from typing_extensions.
from typing_extensions import TypedDict

DAY_MIN = 24 * 60
# A driver counts as having left early for the departure they gave only beyond this.
EARLY_SLACK = timedelta(minutes=15)
# A car is not expected back sooner than this after it left (an errand is no trip home).
MIN_TRIP = timedelta(minutes=30)
# An expected car that is this late did not come home that day (what is learned).
GIVE_UP_AFTER = timedelta(hours=4)
# How long before its usual arrival a cloud reading with less charge may mean the car is home.
ARRIVAL_WINDOW = timedelta(hours=1)


def _ewma(old: float | None, new: float, rate: float) -> float:
    return new if old is None else old + rate * (new - old)


def _minute(at: datetime, tz: tzinfo) -> tuple[int, int]:
    """(local weekday 0 = Monday, local minute of the day)."""
    local = at.astimezone(tz)
    return local.weekday(), local.hour * 60 + local.minute


@dataclass(frozen=True, slots=True)
class DayHabit:
    """One car on one weekday. Minutes are local minutes of the day; drop_pct is how much
    SoC a trip that ends on this weekday uses; arrive_p how often the car came back on
    this weekday when it was away (1 until a day is missed)."""

    arrive_min: float | None = None
    arrive_soc_pct: float | None = None
    drop_pct: float | None = None
    arrive_p: float | None = None
    depart_min: float | None = None
    arrivals: int = 0
    departures: int = 0


@dataclass(frozen=True, slots=True)
class ColdStart:
    """What the owner told smartload before anything was learned (settings)."""

    arrive_min: float | None = None
    arrive_soc_pct: float | None = None
    depart_min: float | None = None


@dataclass(frozen=True, slots=True)
class CarHabits:
    """Everything learned of one car: per weekday, and how it keeps announced departures."""

    days: Mapping[int, DayHabit] = field(default_factory=dict)
    # Of the departures a driver announced: the share left more than EARLY_SLACK before,
    # and by how many minutes on average when they did.
    early_share: float | None = None
    early_min: float | None = None

    def day(self, weekday: int, what: str) -> float | None:
        """The weekday's own value, else the mean over seen days of its kind, else all days."""
        own = getattr(self.days.get(weekday, DayHabit()), what)
        if own is not None:
            return float(own)
        for same_kind in (lambda d: (d >= 5) == (weekday >= 5), lambda _: True):
            values = [getattr(h, what) for d, h in self.days.items() if same_kind(d) and getattr(h, what) is not None]
            if values:
                return sum(values) / len(values)
        return None


@dataclass(frozen=True, slots=True)
class ExpectedArrival:
    """A car on the road: when it is expected home, with what SoC, and how likely it comes."""

    vehicle: str
    at: datetime
    soc_pct: float | None
    probability: float


class HabitSummary(TypedDict):
    """What is shown of a car's habits today (clock times HH:MM in the site's time zone);
    the API's HabitsView (view_types.py) adds to it."""

    usual_arrival: str | None
    usual_arrival_soc_pct: float | None
    usual_departure: str | None
    left_early_share: float | None
    left_early_min: float | None
    observations: int
    away: bool


@dataclass(frozen=True, slots=True)
class Away:
    """A car that left: when, and with what SoC (None: unknown)."""

    since: datetime
    soc_pct: float | None


def clock_text(minute: float | None) -> str | None:
    if minute is None:
        return None
    total = round(minute) % DAY_MIN
    return f"{total // 60:02d}:{total % 60:02d}"


class HabitBook:
    """The learner for all cars of a site. `learned` restores what an earlier run kept;
    learn=False keeps to it (and the cold start) and only follows which cars are away."""

    def __init__(self, tz: tzinfo, rate: float = 0.25, cold: Mapping[str, ColdStart] | None = None,
                 learned: Mapping[str, CarHabits] | None = None, learn: bool = True) -> None:
        if not 0 < rate <= 1:
            raise ValueError("the habit learning rate must be in (0, 1]")
        self._tz = tz
        self._rate = rate
        self._cold = dict(cold or {})
        self._cars: dict[str, CarHabits] = dict(learned or {})
        self._away: dict[str, Away] = {}
        self._learn = learn

    # -- what the sequencer sees ------------------------------------------------------

    def departed(self, vehicle: str, at: datetime, soc_pct: float | None, announced: datetime | None) -> None:
        """The car left (unplugged, not for a swap). announced: the departure its driver gave."""
        self._away[vehicle] = Away(at, soc_pct)
        if not self._learn:
            return
        car = self._cars.get(vehicle, CarHabits())
        weekday, minute = _minute(at, self._tz)
        day = car.days.get(weekday, DayHabit())
        day = replace(day, depart_min=_ewma(day.depart_min, minute, self._rate), departures=day.departures + 1)
        early_share, early_min = car.early_share, car.early_min
        if announced is not None:
            early = announced - at
            left_early = early > EARLY_SLACK
            early_share = _ewma(early_share, 1.0 if left_early else 0.0, self._rate)
            if left_early:
                early_min = _ewma(early_min, early.total_seconds() / 60, self._rate)
        self._cars[vehicle] = replace(car, days={**car.days, weekday: day}, early_share=early_share,
                                      early_min=early_min)

    def arrived(self, vehicle: str, at: datetime, soc_pct: float | None) -> None:
        """The car is back (plugged in, or a reading shows it was driven) with this SoC."""
        away = self._away.pop(vehicle, None)
        if away is None or not self._learn:
            return  # not seen leaving (a restart, a swap): no trip to learn from
        car = self._cars.get(vehicle, CarHabits())
        days = dict(car.days)
        for weekday in self._missed_days(car, away.since, at):
            missed = days.get(weekday, DayHabit())
            days[weekday] = replace(missed, arrive_p=_ewma(missed.arrive_p if missed.arrive_p is not None else 1.0,
                                                           0.0, self._rate))
        weekday, minute = _minute(at, self._tz)
        day = days.get(weekday, DayHabit())
        drop = None if soc_pct is None or away.soc_pct is None else max(0.0, away.soc_pct - soc_pct)
        days[weekday] = replace(
            day, arrive_min=_ewma(day.arrive_min, minute, self._rate),
            arrive_soc_pct=day.arrive_soc_pct if soc_pct is None else _ewma(day.arrive_soc_pct, soc_pct, self._rate),
            drop_pct=day.drop_pct if drop is None else _ewma(day.drop_pct, drop, self._rate),
            arrive_p=_ewma(day.arrive_p, 1.0, self._rate), arrivals=day.arrivals + 1,
        )
        self._cars[vehicle] = replace(car, days=days)

    def left_unseen(self, vehicle: str, at: datetime, soc_pct: float | None) -> None:
        """The car is taken to have left at `at` (its driver's departure passed while it was
        not plugged in): it is away, but its departure time teaches nothing."""
        self._away.setdefault(vehicle, Away(at, soc_pct))

    def back_unseen(self, vehicle: str) -> None:
        """Forget that the car is away without learning a trip (it was seen home otherwise)."""
        self._away.pop(vehicle, None)

    def _missed_days(self, car: CarHabits, since: datetime, until: datetime) -> list[int]:
        """Weekdays between leaving and coming back on which the car was expected home
        (its usual arrival passed by GIVE_UP_AFTER) and did not come."""
        out = []
        day = since.astimezone(self._tz).replace(hour=0, minute=0, second=0, microsecond=0)
        while day < until:
            usual = car.day(day.weekday(), "arrive_min")
            if usual is not None:
                expected = day + timedelta(minutes=usual)
                if since + MIN_TRIP <= expected and expected + GIVE_UP_AFTER < until:
                    out.append(day.weekday())
            day += timedelta(days=1)  # wall-clock arithmetic: the next local midnight
        return out

    # -- what the planner asks ----------------------------------------------------------

    def is_away(self, vehicle: str) -> bool:
        return vehicle in self._away

    def away(self, vehicle: str) -> Away | None:
        return self._away.get(vehicle)

    def expected(self, vehicle: str, now: datetime) -> ExpectedArrival | None:
        """When the car that is away is expected home (after now), and with what SoC: its
        SoC when it left less the learned trip, else the learned arrival SoC (never above
        what it left with). None when it is not away, no habit is known, or its usual
        arrival after it left has come: from then on it may be home unseen (waiting
        unplugged for a shared wallbox, or with a cloud that says nothing while parked),
        so it is planned as a car at home, never pushed to a later day."""
        away = self._away.get(vehicle)
        if away is None:
            return None
        at = self._usual_arrival(vehicle, away.since)
        if at is None or at <= now:
            return None
        car = self._cars.get(vehicle, CarHabits())
        weekday = at.astimezone(self._tz).weekday()
        return ExpectedArrival(vehicle, at, self._arrival_soc(car, self._cold.get(vehicle, ColdStart()), weekday, away),
                               self._probability(car, weekday))

    def _usual_arrival(self, vehicle: str, since: datetime) -> datetime | None:
        """The first usual arrival at least MIN_TRIP after the car left (a car that left
        after its usual arrival comes back the next day it is usually home)."""
        car = self._cars.get(vehicle, CarHabits())
        cold = self._cold.get(vehicle, ColdStart())
        day = since.astimezone(self._tz).replace(hour=0, minute=0, second=0, microsecond=0)
        for _ in range(8):
            usual = car.day(day.weekday(), "arrive_min")
            usual = cold.arrive_min if usual is None else usual
            if usual is None:
                return None
            at = day + timedelta(minutes=usual)
            if at >= since + MIN_TRIP:
                return at
            day += timedelta(days=1)  # wall-clock arithmetic: the next local midnight
        return None

    def due(self, vehicle: str, at: datetime) -> bool:
        """Whether the car that is away may be home by `at`: its usual arrival is at most
        ARRIVAL_WINDOW later. A reading with less charge earlier (parked at work, asked
        by the routine refresh) is a car still out, not one back home."""
        away = self._away.get(vehicle)
        usual = None if away is None else self._usual_arrival(vehicle, away.since)
        return usual is not None and at >= usual - ARRIVAL_WINDOW

    @staticmethod
    def _probability(car: CarHabits, weekday: int) -> float:
        p = car.day(weekday, "arrive_p")
        return 1.0 if p is None else max(0.0, min(1.0, p))

    @staticmethod
    def _arrival_soc(car: CarHabits, cold: ColdStart, weekday: int, away: Away) -> float | None:
        start = away.soc_pct
        drop = car.day(weekday, "drop_pct")
        if start is not None and drop is not None:
            return max(0.0, start - drop)
        learned = car.day(weekday, "arrive_soc_pct")
        guess = learned if learned is not None else cold.arrive_soc_pct
        if guess is None:
            return start
        return guess if start is None else min(start, guess)

    # -- what is shown and kept ---------------------------------------------------------

    def summary(self, vehicle: str, now: datetime) -> HabitSummary:
        """Today's usual arrival, arrival SoC and departure, and the early-departure figures."""
        car = self._cars.get(vehicle, CarHabits())
        cold = self._cold.get(vehicle, ColdStart())
        weekday = now.astimezone(self._tz).weekday()
        arrive = car.day(weekday, "arrive_min")
        soc = car.day(weekday, "arrive_soc_pct")
        depart = car.day(weekday, "depart_min")
        learned = sum(d.arrivals + d.departures for d in car.days.values())
        return {
            "usual_arrival": clock_text(arrive if arrive is not None else cold.arrive_min),
            "usual_arrival_soc_pct": _rounded(soc if soc is not None else cold.arrive_soc_pct),
            "usual_departure": clock_text(depart if depart is not None else cold.depart_min),
            "left_early_share": _rounded(car.early_share, 2),
            "left_early_min": _rounded(car.early_min),
            "observations": learned,
            "away": vehicle in self._away,
        }

    def state(self) -> dict[str, CarHabits]:
        return dict(self._cars)


def _rounded(value: float | None, digits: int = 0) -> float | None:
    return None if value is None else round(value, digits)


def sentence(summary: HabitSummary) -> str | None:
    """"usually home 17:30 with ~40 %; leaves 07:10", or None when nothing is known."""
    parts = []
    soc, arrival, departure = summary["usual_arrival_soc_pct"], summary["usual_arrival"], summary["usual_departure"]
    if arrival is not None:
        parts.append(f"usually home {arrival}" + (f" with ~{soc:.0f} %" if soc is not None else ""))
    if departure is not None:
        parts.append(f"leaves {departure}")
    return "; ".join(parts) or None
