"""Builds tests/recordings/handoff_shared_wallbox.jsonl.gz from the embedded simulator.

Two cars share one wallbox (a scenario like the shipped household, without trips): zoe is
plugged in and charging at full power in evcc mode "now" towards 80 %, ioniq is at home
and waits. The recording shows evcc's /api/state (layout 0.315.0) every 10 s for 75
minutes, as the recorder would have written it, so a replay can check when smartload
tells the owner to plug in ioniq.

Run: python tests/recordings/make_handoff.py
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from smartload.domain import RawPoll
from smartload.recording.recorder import header, line_for
from smartload.sim.layouts import Layout
from smartload.sim.scenario import Scenario
from smartload.sim.site import Site
from smartload.sim.state_view import build_state

OUT = Path(__file__).with_name("handoff_shared_wallbox.jsonl.gz")
START = datetime(2024, 7, 15, 21, 0, 5, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
SCENARIO = {
    "title": "shared wallbox", "timezone": "Europe/Berlin", "latitude": 52.5, "longitude": 13.4,
    "pv": {"kwp": 0}, "house": {"annual_kwh": 3000},
    "loadpoints": [{"title": "Garage", "phases": 3, "min_current_a": 6, "max_current_a": 16, "mode": "now"}],
    "vehicles": {
        "zoe": {"title": "Renault Zoe", "capacity_kwh": 52, "max_charge_w": 11000, "detection_s": 0,
                "start": {"state": "plugged", "soc_pct": 70, "evcc_soc_pct": 70}},
        "ioniq": {"title": "Hyundai Ioniq 5", "capacity_kwh": 77, "max_charge_w": 11000, "detection_s": 0,
                  "start": {"state": "home", "soc_pct": 40, "evcc_soc_pct": 40}},
    },
}
SETTINGS = {
    "vehicles": {
        "zoe": {"capacity_kwh": 52, "provider": {"type": "fake", "latency": "5s", "soc_pct": 70}},
        "ioniq": {"capacity_kwh": 77, "provider": {"type": "fake", "latency": "5s", "soc_pct": 40}},
    },
    "battery": {"enabled": False},
}


def main() -> None:
    site = Site(Scenario.model_validate(SCENARIO), start=START, seed=3)
    layout = Layout("0.315.0")
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write(json.dumps(header(10, START, settings=SETTINGS, source="tests/recordings/make_handoff.py")) + "\n")
        t = START
        while t < START + timedelta(minutes=75):
            body = json.dumps(layout.response(layout.state(build_state(site, layout.version), site.tz)),
                              separators=(",", ":")).encode()
            out.write(line_for(RawPoll(t, body=body)) + "\n")
            site.run_for(10, 1)
            t += timedelta(seconds=10)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
