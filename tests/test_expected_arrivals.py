"""Cars not yet home are in the plan: learned in the sequencer, planned from their usual
arrival, never acted on, and replaced by the real car at its plug-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smartload.domain import LoadpointState, Rate, SiteState, Snapshot, SocReading, Tariffs
from smartload.habits import CarHabits, DayHabit
from smartload.planner import CarInput, make_plan
from smartload.planner.expected import expected_car
from smartload.settings import Settings
from smartload.sinks.planning import make_planning, planner_settings
from smartload.store.database import Database
from smartload.store.habits import HabitStore
from smartload.store.requests import RequestStore

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 3, 2, tzinfo=BERLIN)


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return (MONDAY + timedelta(days=day, hours=hour, minutes=minute)).astimezone(UTC)


def config(expected: bool = True) -> Settings:
    return Settings.model_validate({
        "site": {"timezone": "Europe/Berlin"},
        "planning": {"expected_arrivals": expected, "time_limit": "5s"},
        "vehicles": {
            "zoe": {"capacity_kwh": 52, "target_soc_pct": 80, "departures": {d: "12:00" for d in
                                                                                  ("mon", "tue", "wed")}},
            "ioniq": {"capacity_kwh": 77, "target_soc_pct": 80,
                      "departures": {d: "07:00" for d in ("mon", "tue", "wed")},
                      "usual_arrival": "17:30", "usual_arrival_soc_pct": 40},
        }})


def site(when: datetime, vehicle: str | None) -> SiteState:
    return SiteState(at=when, loadpoints=(LoadpointState(
        id=1, connected=vehicle is not None, vehicle_name=vehicle, phases_configured=3, min_current_a=6,
        max_current_a=16),))


def reading(vehicle: str, soc: float, when: datetime) -> SocReading:
    return SocReading(vehicle, soc, "cloud", when, when)


def tariffs(start: datetime) -> Tariffs:
    """Dear until 22:00 local, cheap after: an expected car's need is bought at night."""
    cheap_from = at(22)
    rates = [Rate(start + timedelta(hours=h), start + timedelta(hours=h + 1),
                  0.10 if start + timedelta(hours=h) >= cheap_from else 0.40) for h in range(30)]
    return Tariffs(grid=rates)


def leave_early(planning, socs):  # type: ignore[no-untyped-def]
    planning.on_state(site(at(6), "ioniq"))
    planning.on_socs(at(6), socs)
    planning.on_state(site(at(6, 29), "ioniq"))
    planning.on_state(site(at(6, 30), None))  # left 30 min before the 07:00 its driver gave


def test_a_car_on_the_road_is_planned_from_its_usual_arrival_and_not_acted_on(db: Database) -> None:
    planning = make_planning(config(), RequestStore(db))
    socs = {"ioniq": reading("ioniq", 80.0, at(6)), "zoe": reading("zoe", 50.0, at(6))}
    leave_early(planning, socs)
    planning.on_state(site(at(9), "zoe"))
    snapshot = Snapshot(at(9), site(at(9), "zoe"), socs, tariffs(at(9)))
    planning.on_snapshot(snapshot)
    inputs = planning.sequencer.planner_input(snapshot, planning.requests, {})
    assert inputs is not None
    ioniq = next(c for c in inputs.cars if c.name == "ioniq")
    assert (ioniq.wallbox_id, ioniq.available_from, ioniq.soc_pct, ioniq.arrival_probability) == (
        None, at(17, 30), 40.0, 1.0)
    plan = planning.plan
    assert plan is not None
    # The plan keeps the night for it: 77 kWh x 40 % into the car (at 90 %) before Tuesday 07:00.
    assert plan.cars["ioniq"].energy_charged_kwh == pytest.approx(77 * 0.4 / 0.9, abs=0.05)
    assert all(s.start >= at(17, 30) for s in plan.slots if (c := s.cars.get("ioniq")) and c.charging)
    # Nothing for evcc names or serves ioniq: only zoe's wallbox settings, for zoe.
    desired = planning.actuator.desired
    assert {k for k in desired if k.startswith("lp1.")} <= {"lp1.mode", "lp1.maxcurrent", "lp1.limitsoc"}
    assert all("ioniq" not in intent.reason for intent in desired.values())
    assert planning.handoffs == []


def test_without_expected_arrivals_the_car_on_the_road_looks_charged(db: Database) -> None:
    planning = make_planning(config(expected=False), RequestStore(db))
    socs = {"ioniq": reading("ioniq", 80.0, at(6))}
    leave_early(planning, socs)
    snapshot = Snapshot(at(9), site(at(9), None), socs, tariffs(at(9)))
    inputs = planning.sequencer.planner_input(snapshot, planning.sequencer.requests(at(9)), {})
    assert inputs is not None
    ioniq = next(c for c in inputs.cars if c.name == "ioniq")
    assert (ioniq.soc_pct, ioniq.arrival_probability, ioniq.available_from) == (80.0, None, at(9))


def test_the_real_plug_in_replaces_the_expectation_and_teaches_the_arrival(db: Database) -> None:
    planning = make_planning(config(), RequestStore(db))
    leave_early(planning, {"ioniq": reading("ioniq", 80.0, at(6))})
    watch = planning.sequencer.habits
    assert watch is not None and watch.expected("ioniq", at(12)) is not None
    planning.on_state(site(at(18), "ioniq"))
    assert watch.expected("ioniq", at(18)) is None  # plugged in: planned as it is
    planning.on_socs(at(18, 1), {"ioniq": reading("ioniq", 55.0, at(18, 1))})
    day = watch.book.state()["ioniq"].days[0]
    assert (day.arrive_min, day.arrive_soc_pct, day.drop_pct) == (18 * 60, 55.0, 25.0)
    snapshot = Snapshot(at(18, 2), site(at(18, 2), "ioniq"), {"ioniq": reading("ioniq", 55.0, at(18, 1))},
                        tariffs(at(18)))
    inputs = planning.sequencer.planner_input(snapshot, planning.sequencer.requests(at(18, 2)), {})
    assert inputs is not None
    ioniq = next(c for c in inputs.cars if c.name == "ioniq")
    assert (ioniq.wallbox_id, ioniq.arrival_probability, ioniq.soc_pct) == (1, None, 55.0)


def test_a_car_seen_driven_through_its_cloud_is_home_waiting(db: Database) -> None:
    planning = make_planning(config(), RequestStore(db))
    leave_early(planning, {"ioniq": reading("ioniq", 80.0, at(6))})
    planning.on_socs(at(17, 50), {"ioniq": reading("ioniq", 61.0, at(17, 48))})
    watch = planning.sequencer.habits
    assert watch is not None and watch.expected("ioniq", at(17, 50)) is None
    assert watch.book.state()["ioniq"].days[0].arrive_min == 17 * 60 + 48


def test_a_reading_with_less_charge_at_work_is_no_arrival(db: Database) -> None:
    # The routine refresh asks the parked car's cloud in the morning: it has used charge
    # driving to work, but is not home; the evening's expectation and the habits stay.
    planning = make_planning(config(), RequestStore(db))
    leave_early(planning, {"ioniq": reading("ioniq", 80.0, at(6))})
    planning.on_socs(at(7, 50), {"ioniq": reading("ioniq", 74.0, at(7, 45))})
    watch = planning.sequencer.habits
    assert watch is not None and watch.expected("ioniq", at(12)) is not None
    assert watch.book.state()["ioniq"].days[0].arrive_min is None


def test_an_expected_car_is_never_available_within_the_first_slot() -> None:
    now = at(17, 40)
    car = CarInput("ioniq", 77, soc_pct=80, allowed_wallboxes=(1,), available_from=now)
    late = expected_car(car, now, arrival=at(17, 30), soc_pct=40.0, probability=0.5)
    assert (late.available_from, late.soc_pct, late.arrival_probability) == (at(17, 45), 40.0, 0.5)
    with pytest.raises(ValueError, match="plugged in"):
        expected_car(CarInput("zoe", 52, soc_pct=50, wallbox_id=1), now, at(18), 40.0, 1.0)


def test_an_unlikely_car_weighs_less_than_a_sure_one() -> None:
    """Two cars expected at one wallbox for one hour: the likelier one gets it."""
    from smartload.planner import PlannerInput, Slot, WallboxInput

    now = at(16)
    slots = tuple(Slot(now + timedelta(minutes=15 * i), now + timedelta(minutes=15 * (i + 1)), 0.3, 0.0)
                  for i in range(8))
    base = CarInput("a", 50, soc_pct=40, target_soc_pct=60, allowed_wallboxes=(1,), departure=at(18))
    cars = (expected_car(base, now, at(17), None, 0.3),
            expected_car(CarInput("b", 50, soc_pct=40, target_soc_pct=60, allowed_wallboxes=(1,),
                                  departure=at(18)), now, at(17), None, 0.9))
    plan = make_plan(PlannerInput(now, slots, None, (WallboxInput(1),), cars), planner_settings(config()))
    assert plan.cars["b"].energy_charged_kwh > 9.0
    assert plan.cars["a"].energy_charged_kwh < 1.0


def test_habits_are_kept_in_the_data_directory_and_restored(tmp_path: Path) -> None:
    path = tmp_path / "smartload.db"
    with Database.open(path) as db:
        store = HabitStore(db)
        planning = make_planning(config(), RequestStore(db), habit_store=store)
        leave_early(planning, {"ioniq": reading("ioniq", 80.0, at(6))})
        planning.on_state(site(at(18), "ioniq"))
        planning.on_socs(at(18, 1), {"ioniq": reading("ioniq", 55.0, at(18, 1))})
        planning.close()
        kept = store.load()
    assert kept["ioniq"] == CarHabits({0: DayHabit(1080.0, 55.0, 25.0, 1.0, 390.0, 1, 1)}, 1.0, 30.0)
    with Database.open(path) as db:
        restored = make_planning(config(), RequestStore(db), habit_store=HabitStore(db))
        watch = restored.sequencer.habits
        assert watch is not None
        assert watch.book.summary("ioniq", at(12))["usual_arrival"] == "18:00"


def test_no_handoff_is_said_for_a_car_still_on_the_road(db: Database) -> None:
    """zoe is done; the plan charges ioniq at zoe's wallbox tonight. Nobody is told to plug
    in ioniq while it is away: only once it is seen home."""
    planning = make_planning(config(), RequestStore(db))
    socs = {"ioniq": reading("ioniq", 80.0, at(6)), "zoe": reading("zoe", 80.0, at(6))}
    leave_early(planning, socs)
    planning.on_state(site(at(9), "zoe"))
    planning.on_snapshot(Snapshot(at(9), site(at(9), "zoe"), socs, tariffs(at(9))))
    assert planning.plan is not None and planning.plan.cars["ioniq"].energy_charged_kwh > 30
    assert planning.handoffs == []
    home = {**socs, "ioniq": reading("ioniq", 55.0, at(18))}  # its cloud: driven, so home
    planning.on_socs(at(18), home)
    planning.on_snapshot(Snapshot(at(18), site(at(18), "zoe"), home, tariffs(at(18))))
    assert [(h.vehicle, h.replaces) for h in planning.handoffs] == [("ioniq", "zoe")]


def test_a_plug_swapped_to_another_car_is_no_trip(db: Database) -> None:
    """zoe is done and a person plugs ioniq in her place: zoe stays home, not on the road."""
    planning = make_planning(config(), RequestStore(db))
    planning.on_socs(at(12), {"zoe": reading("zoe", 80.0, at(12))})
    planning.on_state(site(at(12), "zoe"))
    planning.on_state(site(at(18, 20), None))
    planning.on_state(site(at(18, 26), "ioniq"))
    planning.on_socs(at(19), {"zoe": reading("zoe", 80.0, at(12))})
    watch = planning.sequencer.habits
    assert watch is not None
    assert not watch.book.is_away("zoe") and watch.book.state() == {}
    # ioniq unplugged with no car plugged in after it: it has left, from its unplug on.
    planning.on_state(site(at(20), None))
    planning.on_socs(at(20, 15), {})
    assert watch.book.away("ioniq") is not None and watch.book.away("ioniq").since == at(20)
