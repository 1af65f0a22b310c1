"""Charge requests (SQLite), default requests from the weekly schedule, completion and handoffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smartload.domain import LoadpointState, Rate, SiteState, Snapshot, SocReading, Tariffs
from smartload.planner import PlannerInput, PlannerSettings, make_plan
from smartload.requests import ChargeRequest, next_departure
from smartload.settings import Settings
from smartload.sinks.house_profile import HouseProfile
from smartload.sinks.requests import effective_requests
from smartload.sinks.sequencer import Sequencer
from smartload.store.database import Database
from smartload.store.requests import RequestStore

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 20, 0, tzinfo=BERLIN).astimezone(UTC)  # a Monday evening


def settings(**vehicles: dict) -> Settings:
    return Settings.model_validate({"vehicles": vehicles or {
        "zoe": {"capacity_kwh": 52, "target_soc_pct": 80},
        "ioniq": {"capacity_kwh": 77, "departures": {"tue": "06:30"}},
    }})


def test_next_departure_follows_the_weekly_schedule_in_local_time():
    schedule = {"mon": "07:00", "tue": "07:00", "sat": "10:00"}
    assert next_departure(NOW, schedule, BERLIN) == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 07:00 CET
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    # Sunday has no departure, the next is Monday 07:00 CEST (after the DST switch on Mar 29).
    assert next_departure(saturday, schedule, BERLIN) == datetime(2026, 3, 30, 5, 0, tzinfo=UTC)
    assert next_departure(NOW, {}, BERLIN) is None


def test_default_requests_come_from_settings_and_explicit_ones_supersede(db):
    store = RequestStore(db)
    config = settings()
    defaults = effective_requests(config, store, NOW)
    assert defaults["zoe"] == ChargeRequest("zoe", datetime(2026, 3, 3, 6, 0, tzinfo=UTC), 80.0)
    assert defaults["ioniq"].departure == datetime(2026, 3, 3, 5, 30, tzinfo=UTC)
    assert defaults["ioniq"].target_soc_pct == 80.0  # planning.default_target_soc_pct
    explicit = store.add(ChargeRequest("zoe", NOW + timedelta(hours=5), 100.0, source="api"), NOW)
    assert effective_requests(config, store, NOW)["zoe"] == explicit
    assert store.cancel("zoe", NOW) is True
    assert effective_requests(config, store, NOW)["zoe"] == defaults["zoe"]


def test_requests_survive_a_restart(tmp_path):
    path = tmp_path / "r.db"
    with Database.open(path) as db:
        store = RequestStore(db)
        made = store.add(ChargeRequest("zoe", NOW + timedelta(hours=3), None, energy_kwh=12.5, priority=2,
                                       source="api"), NOW)
        store.boost("ioniq", NOW + timedelta(minutes=90))
    with Database.open(path) as db:
        reopened = RequestStore(db)
        assert reopened.open_requests() == {"zoe": made}
        assert reopened.boosts(NOW) == {"ioniq": NOW + timedelta(minutes=90)}
        assert reopened.boosts(NOW + timedelta(minutes=91)) == {}


def lp(lp_id: int, vehicle: str | None) -> LoadpointState:
    return LoadpointState(id=lp_id, connected=vehicle is not None, vehicle_name=vehicle, phases_configured=3,
                          min_current_a=6, max_current_a=16)


def site(at: datetime, vehicle: str | None) -> SiteState:
    return SiteState(at=at, loadpoints=(lp(1, vehicle),))


def reading(vehicle: str, soc: float, at: datetime) -> SocReading:
    return SocReading(vehicle, soc, "fake", at, at)


def test_target_reached_is_announced_once_per_crossing_and_the_car_left_ends_the_request(db):
    store = RequestStore(db)
    seq = Sequencer(settings(), store, HouseProfile(BERLIN, 400))
    seq.observe_state(site(NOW, "zoe"))
    ended = seq.settle(NOW, {"zoe": reading("zoe", 79.6, NOW)})
    assert [(e.vehicle, e.reason) for e in ended] == [("zoe", "target reached")]
    assert seq.settle(NOW, {"zoe": reading("zoe", 80.0, NOW)}) == []
    # The request stays: driven before its departure, the car needs charging again.
    assert "zoe" in seq.requests(NOW + timedelta(hours=1))
    assert seq.settle(NOW, {"zoe": reading("zoe", 78.5, NOW)}) == []  # within the hysteresis
    assert seq.settle(NOW, {"zoe": reading("zoe", 60, NOW)}) == []
    assert [e.reason for e in seq.settle(NOW, {"zoe": reading("zoe", 80, NOW)})] == ["target reached"]
    # Past Tuesday's 07:00 departure the request has departed; Wednesday's applies.
    tuesday = datetime(2026, 3, 3, 6, 1, tzinfo=UTC)
    assert seq.requests(tuesday)["zoe"].departure == datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
    seq.observe_state(site(NOW, "ioniq"))  # zoe unplugged, ioniq plugged in
    # Out for the evening, ten hours before Tuesday's 06:30: it comes back for that departure.
    assert seq.observe_state(site(NOW + timedelta(seconds=10), None)) == []
    assert "ioniq" in seq.requests(NOW + timedelta(minutes=1))
    early = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)  # 05:00 CET: within 2 h of its 06:30, it has left for it
    seq.observe_state(site(early, "ioniq"))
    left = seq.observe_state(site(early + timedelta(seconds=10), None))
    assert [(e.vehicle, e.reason) for e in left] == [("ioniq", "left")]
    assert "ioniq" not in seq.requests(early + timedelta(minutes=1))
    # ...and back before its departure: it had not left after all.
    seq.observe_state(site(early + timedelta(minutes=2), "ioniq"))
    assert "ioniq" in seq.requests(early + timedelta(minutes=2))


def test_a_car_leaving_after_its_scheduled_departure_keeps_the_next_days_request(db):
    """Drivers announce the earliest they leave. Leaving 20 minutes after it, still plugged
    in, is that departure's trip: tomorrow's request stays, so the car is charged when it
    comes back (at a shared wallbox it is only plugged in when a handoff asks for it)."""
    seq = Sequencer(settings(), RequestStore(db), HouseProfile(BERLIN, 0))
    monday = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 06:00 CET; zoe's scheduled departure is 07:00
    seq.observe_state(site(monday, "zoe"))
    assert seq.requests(monday)["zoe"].departure == monday + timedelta(hours=1)
    assert seq.observe_state(site(monday + timedelta(hours=1, minutes=20), None)) == []
    request = seq.requests(monday + timedelta(hours=2))["zoe"]
    assert (request.departure, request.source) == (datetime(2026, 3, 3, 6, 0, tzinfo=UTC), "default")


def test_python_api_validates_requests(db):
    seq = Sequencer(settings(), RequestStore(db), HouseProfile(BERLIN, 400))
    with pytest.raises(KeyError):
        seq.add_request(ChargeRequest("tesla", NOW + timedelta(hours=1), 80), NOW)
    with pytest.raises(ValueError, match="future"):
        seq.add_request(ChargeRequest("zoe", NOW - timedelta(hours=1), 80), NOW)
    with pytest.raises(ValueError, match="either"):
        seq.add_request(ChargeRequest("zoe", NOW + timedelta(hours=1), 80, energy_kwh=5), NOW)


def flat_tariffs(start: datetime, hours: int, cheap_from: int) -> Tariffs:
    rates = tuple(
        Rate(start + timedelta(hours=h), start + timedelta(hours=h + 1), 0.10 if h >= cheap_from else 0.40)
        for h in range(hours)
    )
    return Tariffs(grid=rates)


def test_two_cars_one_wallbox_hand_off_once_the_plugged_car_is_done(db):
    config = settings(
        zoe={"capacity_kwh": 50, "departures": {"tue": "07:00"}},
        ioniq={"capacity_kwh": 50, "departures": {"tue": "07:00"}},
    )
    seq = Sequencer(config, RequestStore(db), HouseProfile(BERLIN, 0))
    state = site(NOW, "zoe")
    seq.observe_state(state)
    tariffs = flat_tariffs(NOW, 12, cheap_from=2)

    def plan_at(at: datetime, socs: dict[str, SocReading]):
        snapshot = Snapshot(at, state, socs, tariffs)
        inputs = seq.planner_input(snapshot, seq.requests(at), {})
        assert inputs is not None
        plan = make_plan(inputs, PlannerSettings(time_limit_s=5))
        assert plan.status == "optimal"
        return plan

    # zoe (plugged, 10 kWh to go) charges first in the cheap hours: no handoff yet.
    socs = {"zoe": reading("zoe", 60, NOW), "ioniq": reading("ioniq", 60, NOW)}
    assert seq.handoffs(plan_at(NOW, socs), NOW) == []
    # zoe reaches its target (within the half-percent margin): ioniq is due at the wallbox.
    later = NOW + timedelta(hours=3)
    socs["zoe"] = reading("zoe", 79.6, later)
    assert [(e.vehicle, e.reason) for e in seq.settle(later, socs)] == [("zoe", "target reached")]
    plan = plan_at(later, socs)
    [handoff] = seq.handoffs(plan, later)
    assert (handoff.wallbox_id, handoff.vehicle, handoff.replaces, handoff.at, handoff.by) == (1, "ioniq", "zoe",
                                                                                               later, later)
    assert handoff.message(BERLIN) == "plug in ioniq at wallbox 1 by 23:00 (unplug zoe)"
    assert seq.handoffs(plan, later) == []  # announced once


def test_a_driver_still_plugged_in_after_the_departure_given_gets_the_energy_now(db):
    store = RequestStore(db)
    seq = Sequencer(settings(), store, HouseProfile(BERLIN, 0))
    seq.add_request(ChargeRequest("zoe", NOW + timedelta(hours=1), 80, source="api"), NOW)
    seq.observe_state(site(NOW, "zoe"))
    late = NOW + timedelta(hours=2)
    socs = {"zoe": reading("zoe", 50, late)}
    assert seq.settle(late, socs) == []  # overdue, not departed: the car is still here
    inputs = seq.planner_input(Snapshot(late, site(late, "zoe"), socs, flat_tariffs(NOW, 12, cheap_from=6)),
                               seq.requests(late), {})
    assert inputs is not None
    [zoe] = [c for c in inputs.cars if c.name == "zoe"]
    assert zoe.departure == late + timedelta(minutes=15)
    plan = make_plan(inputs, PlannerSettings(time_limit_s=5))
    assert plan.slots[0].cars["zoe"].power_w == pytest.approx(11040.0)  # full power now, not at 0.10 EUR later
    # It ends when the car leaves.
    assert [(e.vehicle, e.reason) for e in seq.observe_state(site(late + timedelta(minutes=20), None))] == [
        ("zoe", "left")]
    assert seq.requests(late + timedelta(minutes=20))["zoe"].source == "default"


def test_without_the_car_a_passed_departure_ends_the_request(db):
    store = RequestStore(db)
    seq = Sequencer(settings(), store, HouseProfile(BERLIN, 0))
    seq.add_request(ChargeRequest("zoe", NOW + timedelta(hours=1), 80, source="api"), NOW)
    seq.observe_state(site(NOW, None))
    ended = seq.settle(NOW + timedelta(hours=2), {})
    assert [(e.vehicle, e.reason) for e in ended] == [("zoe", "departed")]


def test_a_car_that_slows_near_full_is_planned_to_finish_earlier(db):
    config = settings(zoe={"capacity_kwh": 52, "target_soc_pct": 90, "max_charge_w": 11_000,
                           "taper_from_soc_pct": 80})
    seq = Sequencer(config, RequestStore(db), HouseProfile(BERLIN, 0))
    seq.observe_state(site(NOW, "zoe"))
    socs = {"zoe": reading("zoe", 50, NOW)}
    inputs = seq.planner_input(Snapshot(NOW, site(NOW, "zoe"), socs, flat_tariffs(NOW, 12, cheap_from=2)),
                               seq.requests(NOW), {})
    assert inputs is not None
    departure = seq.requests(NOW)["zoe"].departure
    # 80 -> 90 % at a linearly falling power takes 12 min 10 s more than at full power.
    assert departure - inputs.cars[0].departure == timedelta(minutes=12, seconds=10, microseconds=447519)


def after_ten_early_drivers(seq: Sequencer, store: RequestStore) -> PlannerInput:
    """Ten drivers left 0, 10, ..., 90 minutes before the departure they gave; now zoe is
    plugged in with a request for 5 h from now (and ioniq has its schedule's)."""
    for minutes in range(0, 100, 10):
        made = store.add(ChargeRequest("zoe", NOW + timedelta(hours=2), 80, source="api"), NOW)
        store.end(made, NOW + timedelta(hours=2, minutes=-minutes), "left")
    seq.add_request(ChargeRequest("zoe", NOW + timedelta(hours=5), 80, source="api"), NOW)
    seq.observe_state(site(NOW, "zoe"))
    socs = {"zoe": reading("zoe", 50, NOW), "ioniq": reading("ioniq", 50, NOW)}
    inputs = seq.planner_input(Snapshot(NOW, site(NOW, "zoe"), socs, flat_tariffs(NOW, 12, cheap_from=2)),
                               seq.requests(NOW), {})
    assert inputs is not None
    return inputs


def test_plans_for_drivers_requests_end_as_early_as_drivers_have_been_leaving(db):
    store = RequestStore(db)
    seq = Sequencer(settings(), store, HouseProfile(BERLIN, 0))
    inputs = after_ten_early_drivers(seq, store)
    assert seq.early_margin() == timedelta(minutes=70)  # the 80th percentile
    departures = {c.name: c.departure for c in inputs.cars}
    assert departures["zoe"] == NOW + timedelta(hours=5) - timedelta(minutes=70)
    # A default request follows the owner's own schedule: not moved.
    assert departures["ioniq"] == seq.requests(NOW)["ioniq"].departure


def test_a_departure_in_a_few_minutes_is_kept_as_it_is(db):
    seq = Sequencer(settings(), RequestStore(db), HouseProfile(BERLIN, 0))
    seq.add_request(ChargeRequest("zoe", NOW + timedelta(minutes=5), 80, source="api"), NOW)
    seq.observe_state(site(NOW, "zoe"))
    socs = {"zoe": reading("zoe", 50, NOW)}
    inputs = seq.planner_input(Snapshot(NOW, site(NOW, "zoe"), socs, flat_tariffs(NOW, 12, cheap_from=2)),
                               seq.requests(NOW), {})
    assert inputs is not None
    assert [c.departure for c in inputs.cars if c.name == "zoe"] == [NOW + timedelta(minutes=5)]


def test_early_deadlines_price_each_kwh_by_the_share_of_drivers_gone_before_it(db):
    base = settings()
    # The deadlines alone, without the margin that moves the departure itself; a prior of
    # ten pseudo-drivers who all keep their word.
    config = base.model_copy(update={"planning": base.planning.model_copy(
        update={"early_departure_quantile": 0.0, "early_departure_prior_share": 0.0})})
    store = RequestStore(db)
    inputs = after_ten_early_drivers(Sequencer(config, store, HouseProfile(BERLIN, 0)), store)
    cars = {c.name: c for c in inputs.cars}
    departure = NOW + timedelta(hours=5)
    assert cars["zoe"].departure == departure
    # The ten left 0, 10, ..., 90 min early: rounded up to the quarter-hour 0, 15, 30, 30,
    # 45, 60, 60, 75, 90, 90, beside the ten on time (20 in all). A kWh in only after
    # departure - 90 min misses the two gone by departure - 75 min (2 of 20: 0.1 x 2 EUR);
    # after departure - 75 also the 75-min one, and so on; after departure - 15 min every
    # driver who left early at all (9 of 20).
    deadlines = cars["zoe"].early_deadlines
    assert [(departure - d.at, round(d.penalty_eur_per_kwh, 9)) for d in deadlines] == [
        (timedelta(minutes=90), 0.2), (timedelta(minutes=75), 0.1), (timedelta(minutes=60), 0.2),
        (timedelta(minutes=45), 0.1), (timedelta(minutes=30), 0.2), (timedelta(minutes=15), 0.1)]
    assert [d.energy_kwh for d in deadlines] == pytest.approx([0.3 * 52] * 6)  # all of its need, 50 -> 80 %
    assert sum(d.penalty_eur_per_kwh for d in cars["zoe"].early_deadlines) == pytest.approx(2.0 * 9 / 20)
    # The owner's own schedule has no early deadlines.
    assert cars["ioniq"].early_deadlines == ()


def test_the_prior_spreads_its_early_drivers_over_the_quarter_hours_and_stays(db):
    store = RequestStore(db)
    seq = Sequencer(settings(), store, HouseProfile(BERLIN, 0))
    # No driver has left yet: the prior, 1 in 4 of 10 pseudo-drivers early, spread evenly
    # over the eight quarter-hours up to early_departure_max (2 h), the rest on time.
    assert seq.early_samples() == [(timedelta(0), 7.5)] + [(timedelta(minutes=15 * k), 2.5 / 8) for k in range(1, 9)]
    # Eight drivers who all left on time (short stays often do) do not teach that nobody
    # leaves early: the prior stays beside them.
    for _ in range(8):
        made = store.add(ChargeRequest("zoe", NOW + timedelta(hours=1), 80, source="api"), NOW)
        store.end(made, NOW + timedelta(hours=1), "left")
    samples = seq.early_samples()
    assert samples[0] == (timedelta(0), 15.5)
    departure = NOW + timedelta(hours=3)
    found = seq.early_deadlines(departure, timedelta(0), 10.0, NOW, samples)
    # Of the 18 (pseudo-)drivers, a kWh in only after departure - 2 h misses those who
    # left 2 h early (0.3125 of 18); after departure - 1:45 also those 1:45 early, and so
    # on, a quarter-hour at a time.
    assert [departure - d.at for d in found] == [timedelta(minutes=15 * k) for k in range(8, 0, -1)]
    assert [round(d.penalty_eur_per_kwh, 9) for d in found] == [round(2.0 * 2.5 / 8 / 18, 9)] * 8


def test_early_deadlines_condition_on_the_driver_still_here(db):
    store = RequestStore(db)
    seq = Sequencer(settings(), store, HouseProfile(BERLIN, 0))
    samples = [(timedelta(minutes=m), 1.0) for m in range(0, 100, 10)]
    departure = NOW + timedelta(minutes=75)
    # It is 75 min before the departure given: the 80- and 90-min leavers would be gone, so
    # of the 8 drivers still possible, 3 leave before departure - 45 min (the 70-min one,
    # rounded to 75, and the two 50- and 60-min ones: 0.75 EUR), 4 before departure - 30
    # min (0.25 more), 6 before departure - 15 min (0.5 more), 7 before it at all (0.25 more).
    found = seq.early_deadlines(departure, timedelta(0), 10.0, NOW, samples)
    assert [(departure - d.at, round(d.penalty_eur_per_kwh, 9)) for d in found] == [
        (timedelta(minutes=60), 0.75), (timedelta(minutes=45), 0.25), (timedelta(minutes=30), 0.5),
        (timedelta(minutes=15), 0.25)]
