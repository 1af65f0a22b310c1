"""The household's announced departures, and the stays perfect foresight sees are the
stays the simulator plays."""

from __future__ import annotations

from datetime import datetime, timedelta

from smartload.settings import Settings
from smartload.sim.scenario import load_scenario
from smartload.whatif.household import announced_departures, home_stays
from smartload.whatif.runner import make_context, prepare
from smartload.whatif.strategies import uncontrolled
from tests.whatif.conftest import BERLIN, config


def test_drivers_announce_the_earliest_they_may_leave() -> None:
    vehicles = load_scenario("household").vehicles
    assert announced_departures(vehicles["zoe"]) == {
        "mon": "08:10", "tue": "14:40", "wed": "08:10", "thu": "14:40", "fri": "08:10", "sat": None, "sun": "10:30"}
    assert announced_departures(vehicles["ioniq"]) == {
        "mon": "06:50", "tue": "06:50", "wed": "06:50", "thu": "06:50", "fri": "06:50", "sat": "09:30", "sun": None}


def test_foreseen_stays_are_the_stays_the_simulator_plays() -> None:
    inputs = prepare(config(scenario="household", days=3), Settings())
    ctx = make_context(inputs)
    uncontrolled.run(ctx)
    ctx.port.sync(inputs.end)
    played = {s.id: s for s in ctx.book.stays}
    foreseen = home_stays(inputs.scenario, inputs.start, inputs.end, inputs.seed, inputs.targets)
    assert [f"{s.vehicle}#{s.index}" for s in foreseen] == [
        "zoe#0", "zoe#1", "zoe#2", "zoe#3", "ioniq#0", "ioniq#1", "ioniq#2", "ioniq#3"]
    for stay in foreseen:
        seen = played[f"{stay.vehicle}#{stay.index}"]
        if stay.departure is None:
            assert seen.departure is None
            continue
        # The meter notices a departure at the end of the 10 s step it falls in.
        assert seen.departure is not None
        assert timedelta(0) <= datetime.fromtimestamp(seen.departure, BERLIN) - stay.departure < timedelta(seconds=10)
        # Plugged in 5 minutes after coming home (the meter sees the return at its step's end);
        # zoe, at home at the start, 90 s after it.
        delay = stay.plug_from - datetime.fromtimestamp(seen.arrival, BERLIN)
        if stay.index == 0 and stay.vehicle == "zoe":
            assert delay == timedelta(seconds=90)
        else:
            assert timedelta(seconds=290) < delay <= timedelta(seconds=300)
    assert foreseen[0].soc_on_arrival_pct == 31.0 and foreseen[4].soc_on_arrival_pct == 38.0
