"""One name per wallbox: the events a person reads call loadpoint 1 by evcc's title
("Garage"), as the dashboard's cards, banner and settings table do; "wallbox 1" only
while evcc has given no title (or no state yet)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from smartload.domain import ConnectionEdge
from smartload.narrate import narrate
from smartload.sinks.actuator import Override
from smartload.sinks.sequencer import Handoff
from tests.web.builders import NOW, make_parts, settings, site_state


def test_events_name_the_wallbox_by_evccs_title(tmp_path):
    parts = make_parts(settings(tmp_path))
    system = parts.system
    wiring = narrate(system, "http://evcc.local:7070")
    edges, notices = parts.subjects["edges"], system.planning.actuator.notices
    edges.on_next(ConnectionEdge("zoe", 1, NOW, NOW, "plugged"))  # no state yet: no title known
    parts.push_state(site_state())
    edges.on_next(ConnectionEdge("zoe", 1, NOW, NOW - timedelta(seconds=30), "plugged"))
    notices.on_next(Override(1, "lp1.mode", NOW, "now", "off"))
    system.planning.handed_off.on_next(Handoff(1, "ioniq", NOW + timedelta(minutes=30), "zoe", NOW))
    untitled = replace(system.live.state.loadpoints[0], title="  ")
    parts.push_state(replace(system.live.state, loadpoints=(untitled,)))
    edges.on_next(ConnectionEdge("zoe", 1, NOW, NOW, "moved"))
    wiring.dispose()
    parts.close()
    assert [e.text for e in system.live.events] == [
        "zoe plugged in at wallbox 1",
        "zoe plugged in at Garage (identified after 30 s)",
        "Garage: mode changed in evcc to off (smartload wrote now); paused until the car unplugs",
        "handoff: unplug Renault Zoe, then plug in Hyundai Ioniq 5 at Garage by 20:30",
        "zoe moved to wallbox 1",
    ]
