"""The habit learner (smartload/habits.py): exact averages, fallbacks, misses, cold start."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smartload.habits import CarHabits, ColdStart, DayHabit, HabitBook, sentence

TZ = ZoneInfo("Europe/Berlin")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """2024-03-04 is a Monday; day 0 = Monday."""
    return datetime(2024, 3, 4 + day, hour, minute, tzinfo=TZ)


def trip(book: HabitBook, day: int, leave: tuple[int, int], back: tuple[int, int], soc_out: float, soc_in: float,
         announced: tuple[int, int] | None = None) -> None:
    book.departed("ioniq", local(day, *leave), soc_out, None if announced is None else local(day, *announced))
    book.arrived("ioniq", local(day, *back), soc_in)


def test_one_trip_is_learned_exactly() -> None:
    book = HabitBook(TZ)
    trip(book, 0, (7, 10), (17, 30), 80.0, 62.0)
    day = book.state()["ioniq"].days[0]
    assert day == DayHabit(arrive_min=17 * 60 + 30, arrive_soc_pct=62.0, drop_pct=18.0, arrive_p=1.0,
                           depart_min=7 * 60 + 10, arrivals=1, departures=1)
    assert book.summary("ioniq", local(0, 12))["usual_arrival"] == "17:30"


def test_habits_move_by_the_learning_rate() -> None:
    book = HabitBook(TZ, rate=0.25)
    trip(book, 0, (7, 0), (17, 0), 80.0, 60.0)
    trip(book, 7, (8, 0), (19, 0), 80.0, 40.0)
    day = book.state()["ioniq"].days[0]
    assert day.arrive_min == pytest.approx(17 * 60 + 0.25 * 120)  # 17:30
    assert day.depart_min == pytest.approx(7 * 60 + 15)
    assert day.arrive_soc_pct == pytest.approx(55.0)
    assert day.drop_pct == pytest.approx(25.0)
    assert (day.arrivals, day.departures) == (2, 2)


def test_expected_arrival_uses_the_soc_left_with_less_the_usual_trip() -> None:
    book = HabitBook(TZ)
    trip(book, 0, (7, 10), (17, 30), 80.0, 62.0)
    book.departed("ioniq", local(7, 7, 5), 75.0, None)  # the next Monday, with less
    expected = book.expected("ioniq", local(7, 9))
    assert expected is not None
    assert expected.at == local(7, 17, 30)
    assert expected.soc_pct == pytest.approx(57.0)
    assert expected.probability == 1.0


def test_an_unseen_weekday_borrows_from_days_of_its_kind() -> None:
    book = HabitBook(TZ)
    trip(book, 0, (7, 0), (17, 0), 80.0, 60.0)  # Monday
    trip(book, 1, (7, 0), (18, 0), 80.0, 70.0)  # Tuesday
    trip(book, 5, (10, 0), (15, 0), 80.0, 74.0)  # Saturday
    book.departed("ioniq", local(2, 7, 0), 80.0, None)  # Wednesday: never seen
    expected = book.expected("ioniq", local(2, 8))
    assert expected is not None
    assert expected.at == local(2, 17, 30)  # the mean of Monday and Tuesday, not Saturday
    assert expected.soc_pct == pytest.approx(80.0 - 15.0)


def test_a_car_past_its_usual_arrival_is_planned_as_home_never_on_a_later_day() -> None:
    # Home unseen (waiting unplugged for a shared wallbox, or a cloud silent while parked)
    # is likelier than a car on the road for hours: from its usual arrival on, it is no
    # longer planned as expected, so it keeps tonight's charge and its handoff.
    book = HabitBook(TZ)
    trip(book, 0, (7, 0), (17, 0), 80.0, 60.0)
    book.departed("ioniq", local(1, 7, 0), 80.0, None)
    before = book.expected("ioniq", local(1, 16))
    assert before is not None and before.at == local(1, 17)
    assert [book.expected("ioniq", local(1, h)) for h in (17, 19, 22)] == [None, None, None]
    # A car that left after its usual arrival is expected the next day it usually comes.
    again = HabitBook(TZ)
    trip(again, 0, (7, 0), (17, 0), 80.0, 60.0)
    again.departed("ioniq", local(0, 18, 0), 60.0, None)
    later = again.expected("ioniq", local(0, 20))
    assert later is not None and later.at == local(1, 17)


def test_less_charge_seen_far_from_the_usual_arrival_is_a_car_still_out() -> None:
    book = HabitBook(TZ)
    trip(book, 0, (7, 0), (17, 0), 80.0, 60.0)
    book.departed("ioniq", local(1, 7, 0), 80.0, None)
    assert [book.due("ioniq", local(1, h, m)) for h, m in ((7, 45), (15, 59), (16, 0), (18, 0))] == [
        False, False, True, True]
    assert book.due("zoe", local(1, 18)) is False  # not away, or no habit: never inferred


def test_a_day_away_lowers_that_weekdays_probability() -> None:
    book = HabitBook(TZ, rate=0.25)
    trip(book, 0, (7, 0), (17, 0), 80.0, 60.0)
    trip(book, 1, (7, 0), (17, 0), 80.0, 60.0)
    book.departed("ioniq", local(7, 7, 0), 80.0, None)  # Monday, back only on Tuesday evening
    book.arrived("ioniq", local(8, 17, 0), 40.0)
    days = book.state()["ioniq"].days
    assert days[0].arrive_p == pytest.approx(0.75)
    assert days[1].arrive_p == pytest.approx(1.0)


def test_early_departures_are_counted_against_the_announced_one() -> None:
    book = HabitBook(TZ, rate=0.5)
    trip(book, 0, (6, 0), (17, 0), 80.0, 60.0, announced=(7, 0))  # 60 min early
    trip(book, 1, (6, 55), (17, 0), 80.0, 60.0, announced=(7, 0))  # within the slack
    car = book.state()["ioniq"]
    assert car.early_share == pytest.approx(0.5)
    assert car.early_min == pytest.approx(60.0)


def test_cold_start_from_settings_until_something_is_learned() -> None:
    book = HabitBook(TZ, cold={"zoe": ColdStart(17 * 60 + 45, 40.0, 7 * 60 + 10)})
    assert book.expected("zoe", local(0, 9)) is None  # not seen leaving: not on the road
    book.departed("zoe", local(0, 8), 90.0, None)
    expected = book.expected("zoe", local(0, 9))
    assert expected is not None and expected.at == local(0, 17, 45) and expected.soc_pct == 40.0
    summary = book.summary("zoe", local(0, 9))
    assert sentence(summary) == "usually home 17:45 with ~40 %; leaves 08:00"


def test_an_arrival_without_a_departure_teaches_nothing() -> None:
    book = HabitBook(TZ)
    book.arrived("ioniq", local(0, 17), 50.0)
    assert book.state() == {}
    assert sentence(book.summary("ioniq", local(0, 17))) is None


def test_restored_habits_are_used() -> None:
    learned = {"ioniq": CarHabits({0: DayHabit(arrive_min=1050.0, drop_pct=10.0)})}
    book = HabitBook(TZ, learned=learned)
    book.departed("ioniq", local(7, 7), 70.0, None)
    expected = book.expected("ioniq", local(7, 8))
    assert expected is not None and expected.at == local(7, 17, 30) and expected.soc_pct == 60.0


def test_a_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="learning rate"):
        HabitBook(TZ, rate=0.0)


def test_dst_day_keeps_the_local_clock() -> None:
    book = HabitBook(TZ)
    trip(book, 6, (7, 0), (17, 0), 80.0, 60.0)  # Sunday 10 March
    book.departed("ioniq", datetime(2024, 3, 31, 7, tzinfo=TZ), 80.0, None)  # Sunday, DST starts
    expected = book.expected("ioniq", datetime(2024, 3, 31, 8, tzinfo=TZ))
    assert expected is not None
    assert expected.at.astimezone(TZ).hour == 17
    assert expected.at - datetime(2024, 3, 31, 8, tzinfo=TZ) == timedelta(hours=9)
