"""Builds tests/recordings/evening_two_cars.jsonl.gz from evcc's real 0.207.5 /api/state.

A 6-hour evening (17:00-23:00 Europe/Berlin, 2025-09-08, the fixture's own date) of a
household with two cars, written as the recorder would have written it, polls every 10 s
at :x5 seconds and backing off during the outage exactly like the live poll source:

- 17:00:05 vehicle_2 is already plugged in at loadpoint 2 (charging)
- 17:32:10 vehicle_1 plugged in at loadpoint 1 (identified at once)
- 17:34:00 unplugged, 17:35:30 plugged in again (inside the refresh throttle window)
- 18:13:00-18:16:00 evcc unreachable (connection refused), across the 18:15 tick
- 19:02:05 one poll answers HTTP 500; 19:30:05 one body is not JSON
- 20:05 vehicle_1 unplugged; 20:20 a guest car plugs in at loadpoint 1 (identification
  for 30 s, then stays a guest); 20:50 it leaves
- 21:10:00 vehicle_1 plugged in again; evcc identifies it at 21:10:40
- 22:20 vehicle_2 leaves loadpoint 2; 22:30 vehicle_1 leaves loadpoint 1; 22:40 it is
  plugged in at loadpoint 2 (its third refresh of the day: over its budget of 2)

Run: python tests/recordings/make_evening.py  (reads tests/data/evcc/api-state_0.207.5_demo.json)
"""

from __future__ import annotations

import copy
import gzip
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from smartload.domain import PollError, RawPoll
from smartload.recording.recorder import header, line_for
from smartload.streams.polling import _Backoff

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "data" / "evcc" / "api-state_0.207.5_demo.json"
OUT = Path(__file__).with_name("evening_two_cars.jsonl.gz")
BERLIN = ZoneInfo("Europe/Berlin")


def local(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2025, 9, 8, hh, mm, ss, tzinfo=BERLIN).astimezone(UTC)


START, END = local(17, 0, 5), local(23, 0, 0)
DOWN = (local(18, 13), local(18, 16))
HTTP_500_AT, NOT_JSON_AT = local(19, 2, 5), local(19, 30, 5)

# (from, to, loadpoint index, vehicle name or "" for guest, identification seconds)
SESSIONS = [
    (START - timedelta(hours=2), local(22, 20), 1, "vehicle_2", 0),
    (local(17, 32, 10), local(17, 34), 0, "vehicle_1", 0),
    (local(17, 35, 30), local(20, 5), 0, "vehicle_1", 0),
    (local(20, 20), local(20, 50), 0, "", 30),
    (local(21, 10), local(22, 30), 0, "vehicle_1", 40),
    (local(22, 40), END + timedelta(hours=1), 1, "vehicle_1", 0),
]
SETTINGS = {
    "vehicles": {
        "vehicle_1": {"title": "blauer e-Golf", "capacity_kwh": 44,
                      "provider": {"type": "fake", "latency": "20s", "soc_pct": 52, "staleness": "10m"},
                      "refresh": {"daily_budget": 2}},
        "vehicle_2": {"title": "weißes Model 3", "capacity_kwh": 80,
                      "provider": {"type": "fake", "latency": "20s", "soc_pct": 61, "staleness": "3m"}},
    },
    "refresh": {"throttle": "5m", "daily_budget": 10, "backoff_initial": "1m", "backoff_max": "6h"},
}


def loadpoint(base: dict, t: datetime, lp_index: int) -> dict:
    lp = copy.copy(base)
    lp.update(connected=False, charging=False, chargePower=0, vehicleName="", vehicleTitle="",
              vehicleDetectionActive=False, vehicleSoc=0, mode="pv", enabled=False)
    for begin, end, index, name, ident_s in SESSIONS:
        if index != lp_index or not begin <= t < end:
            continue
        identifying = (t - begin).total_seconds() < ident_s
        minutes = (t - begin).total_seconds() / 60
        charging = name != "" and not identifying
        soc = {"vehicle_1": 48.3, "vehicle_2": 55.0}.get(name, 0)
        if charging and minutes > 2:
            # evcc reads the car once charging starts, then about every 5 minutes.
            soc = round(soc + 0.2 * (minutes // 5), 1)
        lp.update(connected=True, charging=charging, enabled=charging,
                  chargePower=11040 if charging else 0, vehicleName="" if identifying else name,
                  vehicleTitle={"vehicle_1": "blauer e-Golf", "vehicle_2": "weißes Model 3"}.get(name, ""),
                  vehicleDetectionActive=identifying, vehicleSoc=soc if name else 0,
                  mode="now" if charging else "pv")
    return lp


def body_at(base: dict, t: datetime) -> bytes:
    state = copy.copy(base)
    state["loadpoints"] = [loadpoint(lp, t, i) for i, lp in enumerate(base["loadpoints"])]
    hour = t.astimezone(BERLIN).hour + t.minute / 60
    pv = round(max(0.0, 6000 * math.sin(math.pi * (hour - 7) / 13)), 1)
    home = round(450 + 150 * math.sin(t.timestamp() / 600), 1)
    cars = sum(lp["chargePower"] for lp in state["loadpoints"])
    state.update(pvPower=pv, homePower=home, grid={**base["grid"], "power": round(home + cars - pv, 1)})
    return json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()


def polls(base: dict) -> list[RawPoll]:
    period = timedelta(seconds=10)
    gate, out, t = _Backoff(period, timedelta(minutes=1)), [], START
    while t < END:
        if gate.due(t):
            if DOWN[0] <= t < DOWN[1]:
                poll = RawPoll(t, error=PollError(t, "connect", "All connection attempts failed"))
            elif t == HTTP_500_AT:
                poll = RawPoll(t, error=PollError(t, "http", "HTTP 500 Internal Server Error"))
            elif t == NOT_JSON_AT:
                poll = RawPoll(t, body=b"<html><body>502 Bad Gateway</body></html>")
            else:
                poll = RawPoll(t, body=body_at(base, t))
            gate.record(poll)
            out.append(poll)
        t += period
    return out


def main() -> None:
    base = json.loads(FIXTURE.read_text(encoding="utf-8"))
    head = header(10, START, evcc_url="http://evcc.local:7070", settings=SETTINGS,
                  source="built by tests/recordings/make_evening.py from api-state_0.207.5_demo.json")
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as handle:
        handle.write(json.dumps(head) + "\n")
        for poll in polls(base):
            handle.write(line_for(poll) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
