"""The planning sink's fault containment: no plan and no write from a state evcc has not
confirmed for two poll intervals, a re-plan when evcc answers again, and a re-plan when a
fresh measured SoC differs from what the plan in force used."""

from __future__ import annotations

from smartload.domain import ChargeMode, LoadpointState, Rate, SiteState, Snapshot, SocReading, Tariffs
from smartload.settings import Settings
from smartload.sinks.actuator import Write, WriteOutcome
from smartload.sinks.planning import fresher, make_planning
from smartload.store.requests import RequestStore
from tests.builders import at


def reading(soc: float, source: str = "zoe-cloud", seconds: float = 0, known: bool = True) -> SocReading:
    return SocReading("zoe", soc, source, at(seconds), at(seconds), known)


def test_a_measurement_that_differs_re_plans_and_evccs_estimate_does_not():
    used = {"zoe": reading(58, "evcc", known=False)}
    # The cloud's 31 % after the plug-in: re-plan. It is what the plan knows from now on.
    news, known = fresher(used, {"zoe": reading(31, seconds=20)})
    assert news == ["zoe SoC 31 % from zoe-cloud (the plan used 58 %)"]
    assert known["zoe"] == reading(31, seconds=20)
    # evcc's estimate while charging moves every poll: judged against the measurement, it waits.
    assert fresher(known, {"zoe": reading(33, "evcc", 600)}) == ([], known)
    # A measurement within 2 points is taken as known, without a re-plan.
    news, known = fresher(known, {"zoe": reading(32.5, seconds=900)})
    assert news == [] and known["zoe"].soc_pct == 32.5
    # evcc reading the car after its plug-in (a known time replacing an unknown one) counts.
    assert fresher(used, {"zoe": reading(31, "evcc", 40)})[0] == ["zoe SoC 31 % from evcc (the plan used 58 %)"]
    # The value evcc shows at a plug-in, of unknown age, comes with the plug-in's own re-plan.
    assert fresher({"zoe": None}, {"zoe": reading(58, "evcc", known=False)})[0] == []
    cloud = fresher({"zoe": None}, {"zoe": reading(40, seconds=5)})[0]
    assert cloud == ["zoe SoC 40 % from zoe-cloud (the plan used none)"]


SETTINGS = Settings(vehicles={"zoe": {"capacity_kwh": 52}}, battery={"enabled": False})


def site(seconds: float) -> SiteState:
    lp = LoadpointState(id=1, connected=True, vehicle_name="zoe", vehicle_soc_pct=40.0, max_current_a=16,
                        min_current_a=6, phases_active=3, limit_soc_pct=0, mode=ChargeMode.PV)
    return SiteState(at=at(seconds), home_power_w=400.0, loadpoints=(lp,))


PRICES = Tariffs(grid=tuple(Rate(at(900 * i), at(900 * (i + 1)), 0.10 if i < 4 else 0.40) for i in range(96)))


def test_no_plan_and_no_write_from_a_state_older_than_two_poll_intervals(db):
    sent: list[Write] = []
    replans: list[str] = []
    store = RequestStore(db)
    planning = make_planning(SETTINGS, store)
    planning.actuator.outbox.subscribe(sent.append)
    planning.replans.subscribe(lambda trigger: replans.append(trigger[1]))
    socs = {"zoe": reading(40, seconds=0)}
    planning.on_state(site(0))
    planning.on_snapshot(Snapshot(at(0), site(0), socs, PRICES))
    assert planning.plan is not None and planning.stale is None
    # Full power in the cheap hour: evcc already shows 16 A.
    assert [w.path for w in sent] == ["/api/loadpoints/1/mode/now", "/api/loadpoints/1/limitsoc/80"]
    for write in sent:
        planning.actuator.ack(WriteOutcome(write, at(0)))
    sent.clear()
    # evcc falls silent after the poll at 0 s; 20 s (two 10 s intervals) is still fresh,
    # 80 s is not: no plan, no write, and the plan shows as stale.
    planning.on_snapshot(Snapshot(at(20), site(0), socs, PRICES, reason="tick"))
    assert planning.stale is None and planning.plan is not None and planning.plan.created_at == at(20)
    planning.on_snapshot(Snapshot(at(80), site(0), socs, PRICES, reason="tick"))
    assert planning.stale == "evcc has not answered for 80 s"
    assert planning.plan.created_at == at(20) and planning.actuator.desired == {} and sent == []
    # evcc answers again: re-planned at once; the old plan is not acted on meanwhile.
    planning.on_state(site(120))
    assert planning.stale is None and replans[-1] == "evcc answers again"
    assert sent == []


def test_the_planner_leaves_out_a_request_it_cannot_take_and_plans_the_others(db):
    settings = Settings(vehicles={"zoe": {"capacity_kwh": 52}, "ioniq": {"capacity_kwh": 77}},
                        battery={"enabled": False})
    store = RequestStore(db)

    def broken_for_ioniq(inputs, planner_settings):  # type: ignore[no-untyped-def]
        from smartload.planner import make_plan

        if any(c.name == "ioniq" for c in inputs.cars):
            raise OverflowError("date value out of range")
        return make_plan(inputs, planner_settings)

    from smartload.sinks.solver import InlineSolver

    planning = make_planning(settings, store, solver=InlineSolver(broken_for_ioniq))
    planning.on_state(site(0))
    planning.on_snapshot(Snapshot(at(0), site(0), {"zoe": reading(40)}, PRICES))
    assert planning.plan is not None and sorted(planning.plan.cars) == ["zoe"]
    assert planning.left_out == {"ioniq": "OverflowError: date value out of range"}


def test_a_wallbox_whose_maximum_is_below_the_default_minimum_is_still_planned(db):
    # evcc showed minCurrent above maxCurrent; the parser dropped the minimum as impossible.
    from dataclasses import replace

    store = RequestStore(db)
    planning = make_planning(SETTINGS, store)
    small = replace(site(0), loadpoints=(replace(site(0).loadpoints[0], max_current_a=4, min_current_a=None),))
    planning.on_state(small)
    planning.on_snapshot(Snapshot(at(0), small, {"zoe": reading(40)}, PRICES))
    assert planning.plan is not None
    assert planning.plan.slots[0].cars["zoe"].power_w == 3 * 4 * 230.0  # the cheap hour, at its 4 A


def test_a_car_smartload_does_not_know_is_left_to_evcc(db):
    # zoe is plugged in, but the settings know only ioniq: no mode, current or limit is
    # written for zoe's wallbox (evcc keeps charging it as it was told).
    settings = Settings(vehicles={"ioniq": {"capacity_kwh": 77}}, battery={"enabled": False})
    sent: list[Write] = []
    planning = make_planning(settings, RequestStore(db))
    planning.actuator.outbox.subscribe(sent.append)
    planning.on_state(site(0))
    planning.on_snapshot(Snapshot(at(0), site(0), {"zoe": reading(40)}, PRICES))
    assert planning.plan is not None
    assert (planning.actuator.desired, sent) == ({}, [])


def test_a_fleet_charges_a_car_without_a_request_at_once_and_a_household_lets_it_wait(db):
    no_departures = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    writes = {}
    for fleet in (True, False):
        settings = Settings(vehicles={"zoe": {"capacity_kwh": 52, "departures": no_departures}},
                            battery={"enabled": False}, planning={"charge_until_announced": fleet})
        sent: list[Write] = []
        planning = make_planning(settings, RequestStore(db))
        planning.actuator.outbox.subscribe(sent.append)
        planning.on_state(site(0))
        planning.on_snapshot(Snapshot(at(0), site(0), {"zoe": reading(40, seconds=0)}, PRICES))
        writes[fleet] = [w.path for w in sent]
    # evcc shows pv mode at 16 A: the fleet's car goes to now (full power is shown already);
    # the household's has nothing planned and is turned off.
    assert writes == {True: ["/api/loadpoints/1/mode/now"], False: ["/api/loadpoints/1/mode/off"]}
