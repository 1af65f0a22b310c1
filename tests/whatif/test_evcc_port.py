"""The in-process evcc: state bodies the real parser reads, writes answered as evcc does,
and time that moves only through sync(), with events at their own instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartload.domain import SiteState
from smartload.evcc.state import parse_state
from smartload.sim.scenario import load_scenario
from smartload.sim.site import Site
from smartload.whatif.evcc_port import EvccPort

START = datetime(2024, 1, 15, 0, 0, tzinfo=UTC)


def port() -> EvccPort:
    return EvccPort(Site(load_scenario("household"), start=START, seed=1), step_s=10.0)


def test_state_body_is_what_the_parser_reads() -> None:
    p = port()
    p.sync(START + timedelta(minutes=5))
    state = parse_state(p.state_body(), p.now())
    assert isinstance(state, SiteState)
    assert [lp.id for lp in state.loadpoints] == [1]
    assert state.loadpoints[0].connected is True  # zoe plugs in 90 s after the start
    assert state.battery is not None and state.battery.capacity_kwh == 10.0
    # The published horizon at 01:05 local: the rest of the day in 15-minute slots.
    assert len(state.forecast.grid) == 92
    assert p.polls == 1


def test_writes_answer_as_evcc_does() -> None:
    p = port()
    assert p.write("POST", "/api/loadpoints/1/mode/now") is None
    assert p.site.loadpoint(1).mode == "now"
    assert p.write("POST", "/api/loadpoints/1/mode/fast") == "400 fast does not belong to ChargeMode values"
    assert p.write("POST", "/api/loadpoints/7/mode/now") == "404 404 page not found"
    assert p.write("POST", "/api/nothing/here") == "404 404 page not found"
    assert p.write("POST", "/api/batterymode/hold") is None
    assert p.site.control.external == "hold"
    assert (p.writes, p.rejected_writes) == (2, 3)


def test_events_fire_at_their_instant_and_observers_see_every_step() -> None:
    p = port()
    fired: list[float] = []
    steps: list[float] = []
    p.observe(lambda site, dt: steps.append(dt))
    p.at(START + timedelta(seconds=95), lambda site: fired.append(site.t))
    p.at(START + timedelta(seconds=30), lambda site: fired.append(site.t))
    p.sync(START + timedelta(seconds=120))
    assert fired == [START.timestamp() + 30, START.timestamp() + 95]
    assert p.site.t == START.timestamp() + 120
    # Steps of 10 s from the start; the event at 95 s splits one, and the steps go on from there.
    assert steps == [10.0] * 9 + [5.0, 10.0, 10.0, 5.0]
    p.sync(START)  # never goes back
    assert p.site.t == START.timestamp() + 120
