"""Cars: plug-ins, evcc's identification phase, stale SoC, trips, sharing a wallbox, the cloud."""

from __future__ import annotations

import pytest

from smartload.sim.cloud import CarCloud
from smartload.sim.scenario import CloudSpec, load_scenario
from smartload.sim.site import Site
from smartload.sim.state_view import build_state
from smartload.sim.vehicle import Presence

from .helpers import BERLIN, local, run, site


def lp_state(s: Site) -> dict:
    return build_state(s, "0.315.0")["loadpoints"][0]


def test_household_plugs_in_within_minutes_and_identifies_after_the_detection_time(sim_log):
    s = Site(load_scenario("household"), start=local("2024-07-15T20:00:00"), seed=1)
    assert not any(lp.connected for lp in s.loadpoints)
    run(s, 89, 1.0)
    assert not lp_state(s)["connected"]
    run(s, 1, 1.0)
    state = lp_state(s)
    assert (state["connected"], state["vehicleDetectionActive"], state["vehicleName"]) == (True, True, "")
    run(s, 29, 1.0)
    assert lp_state(s)["vehicleDetectionActive"]
    run(s, 1, 1.0)
    state = lp_state(s)
    assert (state["vehicleDetectionActive"], state["vehicleName"], state["vehicleTitle"]) == (
        False, "zoe", "Renault Zoe")
    # evcc shows the SoC of zoe's last charge, not the 31 % it has now.
    assert (state["vehicleSoc"], s.vehicle("zoe").soc_pct) == (58.0, 31.0)
    assert any("zoe plugged in at loadpoint 1" in m for m in sim_log)
    assert any("evcc identified zoe" in m for m in sim_log)


def test_evcc_reads_the_true_soc_once_charging_starts():
    s = site(vehicles={"ev": {"start": {"soc_pct": 30, "evcc_soc_pct": 70}}})
    run(s, 60)
    assert s.loadpoint(1).evcc_soc(s.vehicles) == 70.0
    s.loadpoint(1).set_mode("now")
    s.request_control()
    run(s, 10)
    ev = s.vehicle("ev")
    assert ev.evcc_soc_pct == ev.soc_pct == pytest.approx(30 + 11040 * 10 / 3600 * 0.9 / 500)


def test_an_unknown_car_stays_a_guest_after_the_detection_timeout():
    s = site(vehicles={"ev": {"identifiable": False}}, detection_timeout_s=120)
    run(s, 110)
    assert lp_state(s)["vehicleDetectionActive"]
    run(s, 20)
    state = lp_state(s)
    assert (state["connected"], state["vehicleDetectionActive"], state["vehicleName"], state["vehicleSoc"]) == (
        True, False, "", 0.0)


def test_manual_assignment_ends_detection_and_can_be_undone():
    s = site(vehicles={"ev": {"detection_s": 60}})
    run(s, 10)
    assert lp_state(s)["vehicleDetectionActive"]
    s.assign_vehicle(1, "ev")
    state = lp_state(s)
    assert (state["vehicleDetectionActive"], state["vehicleName"]) == (False, "ev")
    s.assign_vehicle(1, None)
    assert lp_state(s)["vehicleName"] == ""
    s.restart_detection(1)
    assert lp_state(s)["vehicleDetectionActive"]
    run(s, 70)
    assert lp_state(s)["vehicleName"] == "ev"


def test_trips_unplug_drive_and_plug_in_again(sim_log):
    trip = {"days": ["mon"], "depart": "07:00", "back": "17:00", "energy_kwh": 10, "energy_spread": 0}
    s = site("2024-07-15T06:00:00", vehicles={"ev": {"trips": [trip], "plug_delay_s": 300}})
    ev = s.vehicle("ev")
    run(s, 3600 - 60, 60)
    assert ev.presence is Presence.PLUGGED
    run(s, 60, 60)
    assert (ev.presence, s.loadpoint(1).connected) == (Presence.AWAY, False)
    run(s, 10 * 3600, 60)
    assert ev.presence is Presence.HOME
    assert ev.soc_pct == pytest.approx(40 - 20)
    assert ev.odometer_km == pytest.approx(60)
    run(s, 300, 60)
    assert ev.presence is Presence.PLUGGED
    assert ev.cloud.reading(s.t) == (20.0, local("2024-07-15T17:05:00").timestamp())
    assert [m.split(": ", 1)[1] for m in sim_log if "leaves" in m or "back home" in m] == [
        "ev unplugged from loadpoint 1 (leaves; charged 0.00 kWh, SoC 40.0 %)",
        "ev leaves (SoC 40.0 %)",
        "ev is back home (SoC 20.0 %)",
    ]


def two_cars(**extra):
    return site(vehicles={
        "ev": {"limit_soc_pct": 45},
        "ev2": {"title": "Second EV", "capacity_kwh": 40, "detection_s": 0, "plug_delay_s": 60,
                "start": {"state": "away", "soc_pct": 50, "back_after_s": 600}},
    }, swap_delay_s=300, **extra)


def test_a_waiting_car_gets_the_plug_when_the_other_is_done(sim_log):
    s = two_cars()
    s.loadpoint(1).set_mode("now")
    run(s, 700)
    assert s.vehicle("ev2").presence is Presence.HOME
    assert any("ev2 waits for a free wallbox" in m for m in sim_log)
    run(s, 300)
    # ev reached 45 % (evcc's limit) after ~906 s; the person swaps 300 s later.
    assert s.loadpoint(1).vehicle.name == "ev"
    run(s, 400)
    assert s.loadpoint(1).vehicle.name == "ev2"
    assert s.vehicle("ev").presence is Presence.HOME
    assert any("plug swapped at loadpoint 1: ev out, ev2 in" in m for m in sim_log)


def test_a_car_running_low_gets_the_plug():
    s = two_cars()
    s.vehicle("ev").soc_pct = 70.0
    s.vehicle("ev2").soc_pct = 15.0
    run(s, 600 + 60 + 10 + 300 + 10)
    assert s.loadpoint(1).vehicle.name == "ev2"


def test_cloud_staleness_latency_and_daily_limit():
    spec = CloudSpec(latency_s=4.0, staleness_s=120.0, daily_limit=2)
    start = local("2024-07-15T22:00:00").timestamp()
    cloud = CarCloud("ev", spec, BERLIN, soc_pct=50.0, now=start)
    cloud.wake(60.0, start + 100)
    first = cloud.request(start + 150)
    assert (first.status, first.body["soc"], first.delay_s) == (200, 50.0, 4.0)
    assert first.body["measured_at"] == "2024-07-15T20:00:00Z"
    second = cloud.request(start + 220)
    assert (second.body["soc"], second.body["measured_at"]) == (60.0, "2024-07-15T20:01:40Z")
    third = cloud.request(start + 300)
    assert third.status == 429
    assert third.retry_after_s == pytest.approx(7200 - 300)
    assert third.body["reset_at"] == "2024-07-15T22:00:00Z"
    assert cloud.request(start + 7200).status == 200
    assert (cloud.requests, cloud.rejected) == (4, 1)


def test_the_car_reports_while_charging():
    s = site(vehicles={"ev": {"cloud": {"wake_interval_s": 600, "staleness_s": 0}}})
    s.loadpoint(1).set_mode("now")
    start = s.t
    run(s, 1300)
    soc, measured = s.vehicle("ev").cloud.reading(s.t)
    assert measured == start + 1200
    assert soc == pytest.approx(40 + 11040 * 1200 / 3600 * 0.9 / 500, abs=1e-6)
