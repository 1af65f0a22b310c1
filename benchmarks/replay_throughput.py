"""Replay throughput: the whole graph in virtual time against a bare json.loads loop.

One day of 10-second polls (8,640 states) built from evcc's real 0.207.5 /api/state body
with values that change every poll (powers, SoC), plug-ins/unplugs every few hours and a
forecast that changes every 15 minutes, as evcc's does: the solar forecast is rescaled
(evcc re-fetches it and fits its scale to the production), the tariff and CO2 series
slide (slots that ended drop out), and from 13:00 local tomorrow's prices are added.
So the parser converts 96 distinct forecasts, each seen by 90 polls (--static-forecast:
the fixture's forecast in every poll, as before, where the parser's memo always hits).
The recording is written to a temporary file, then:
  baseline  - a loop that only json.loads each line of the same file
  pipeline  - smartload.recording.replay.replay_with_settings(): the composed system (parse,
              edges, refreshes from a fake cloud, SoC merge, quarter-hour ticks and
              snapshots, the planner in observe mode) on a HistoricalScheduler
Both are timed three times, interleaved, and the best of each is compared.

Run: python benchmarks/replay_throughput.py [--static-forecast]
(the body is the tests' copy in tests/data/evcc)
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loguru import logger

# This checkout's smartload, not whichever one the virtualenv has installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smartload.recording.recorder import header
from smartload.recording.replay import open_recording, replay_with_settings
from smartload.settings import Settings

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "data" / "evcc" / "api-state_0.207.5_demo.json"
START = datetime(2025, 9, 8, 0, 0, 5, tzinfo=UTC)
POLLS = 8640


POLLS_PER_QUARTER = 90
TOMORROW_FROM = START.replace(hour=11, second=0)  # 13:00 in Berlin: the day-ahead auction's prices


def _ends_after(entry: dict[str, object], now: datetime, key: str = "end") -> bool:
    return datetime.fromisoformat(str(entry[key])) > now


def quarter_forecast(base: dict[str, object], quarter: int) -> dict[str, object]:
    """evcc's forecast as it stands in the quarter-hour `quarter` of the day."""
    now = START.replace(second=0) + timedelta(minutes=15 * quarter)
    forecast = copy.deepcopy(base)
    grid = [e for e in forecast["grid"] if _ends_after(e, now)]
    if now >= TOMORROW_FROM:
        grid += [{"start": (datetime.fromisoformat(e["start"]) + timedelta(days=1)).isoformat(),
                  "end": (datetime.fromisoformat(e["end"]) + timedelta(days=1)).isoformat(),
                  "value": round(e["value"] * 0.93 + 0.01, 5)} for e in base["grid"]]
    forecast["grid"] = grid
    forecast["planner"] = copy.deepcopy(grid)
    forecast["co2"] = [e for e in forecast["co2"] if _ends_after(e, now)]
    factor = 1 + 0.15 * math.sin(quarter / 7)
    solar = forecast["solar"]
    solar["scale"] = round(base["solar"]["scale"] * factor, 6)
    solar["today"] = {**solar["today"], "energy": round(solar["today"]["energy"] * factor, 3)}
    solar["timeseries"] = [{"ts": e["ts"], "val": round(e["val"] * factor, 3)} for e in solar["timeseries"]]
    return forecast


def write_day(path: Path, static_forecast: bool = False) -> int:
    """The recording; returns the number of distinct forecasts in it."""
    base = json.loads(FIXTURE.read_text(encoding="utf-8"))
    lp1, lp2 = base["loadpoints"]
    forecasts = [base["forecast"]] if static_forecast else [
        quarter_forecast(base["forecast"], q) for q in range((POLLS + POLLS_PER_QUARTER - 1) // POLLS_PER_QUARTER)]
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(header(10, START)) + "\n")
        for i in range(POLLS):
            t = START + timedelta(seconds=10 * i)
            state = copy.copy(base)
            hour = i // 360
            plugged1, plugged2 = hour % 5 != 4, hour % 7 != 6
            state["loadpoints"] = [
                {**lp1, "connected": plugged1, "charging": plugged1, "chargePower": 3680 + i % 50 if plugged1 else 0,
                 "vehicleName": "vehicle_1" if plugged1 else "", "vehicleSoc": round(20 + (i % 3000) / 50, 1)},
                {**lp2, "connected": plugged2, "chargePower": 11040 - i % 70 if plugged2 else 0,
                 "vehicleName": "vehicle_2" if plugged2 else "", "vehicleSoc": round(30 + (i % 2000) / 40, 1)},
            ]
            state["forecast"] = forecasts[0 if static_forecast else i // POLLS_PER_QUARTER]
            state.update(pvPower=round(4000 + 1000 * ((i % 97) / 97), 3), homePower=400 + i % 300,
                         grid={**base["grid"], "power": round(1000 - (i % 113) * 7.5, 3)}, batterySoc=20 + i % 60)
            out.write(json.dumps({"t": t.isoformat().replace("+00:00", "Z"), "state": state},
                                 separators=(",", ":")) + "\n")
    return len(forecasts)


def bare_decode(path: Path) -> int:
    n = 0
    with path.open("rb") as handle:
        next(handle)
        for line in handle:
            json.loads(line)
            n += 1
    return n


def pipeline(path: Path) -> int:
    fake = {"type": "fake", "latency": "20s"}
    settings = Settings.model_validate({"vehicles": {
        "vehicle_1": {"capacity_kwh": 44, "provider": fake},
        "vehicle_2": {"capacity_kwh": 80, "provider": fake},
    }})
    report = replay_with_settings(open_recording(path), settings, explicit_settings=True)
    assert len(report["ticks"]) >= 95 and report["refreshes"], "the replay did not run the whole graph"
    return int(report["polls"])


def best_rate(fn, path: Path, rounds: int) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        count = fn(path)
        best = min(best, time.perf_counter() - t0)
    return count / best, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--static-forecast", action="store_true",
                        help="the same forecast in every poll (the parser's memo always hits)")
    args = parser.parse_args()
    logger.remove()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.jsonl"
        distinct = write_day(path, args.static_forecast)
        size_mb = path.stat().st_size / 1e6
        rates: dict[str, float] = {"json.loads": 0.0, "pipeline": 0.0}
        for _ in range(3):
            for name, fn in (("json.loads", bare_decode), ("pipeline", pipeline)):
                rate, _ = best_rate(fn, path, 1)
                rates[name] = max(rates[name], rate)
        print(f"recording: {POLLS} polls, {size_mb:.1f} MB ({size_mb * 1e6 / POLLS / 1e3:.1f} kB/line), "
              f"{distinct} distinct forecast{'s (one per quarter-hour)' if distinct > 1 else ' (static)'}")
        print(f"baseline json.loads per line : {rates['json.loads']:10.0f} states/s")
        print(f"whole pipeline (replay)      : {rates['pipeline']:10.0f} states/s")
        ratio = rates["pipeline"] / rates["json.loads"]
        verdict = "met" if ratio >= 1 else "MISSED (the replay now runs the planner on every snapshot)"
        print(f"ratio pipeline / json.loads  : {ratio:10.2f}  (target >= 1: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
