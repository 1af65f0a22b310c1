"""Replay throughput: the whole graph in virtual time against a bare json.loads loop.

One day of 10-second polls (8,640 states) built from evcc's real 0.207.5 /api/state body
with values that change every poll (powers, SoC) and plug-ins/unplugs every few hours,
written to a temporary recording, then:
  baseline  - a loop that only json.loads each line of the same file
  pipeline  - smartload.recording.replay.replay_with_settings(): the composed system (parse,
              edges, refreshes from a fake cloud, SoC merge, quarter-hour ticks and
              snapshots, the planner in observe mode) on a HistoricalScheduler
Both are timed three times, interleaved, and the best of each is compared.

Run: python benchmarks/replay_throughput.py   (the body is the tests' copy in tests/data/evcc)
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loguru import logger

from smartload.recording.recorder import header
from smartload.recording.replay import open_recording, replay_with_settings
from smartload.settings import Settings

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "data" / "evcc" / "api-state_0.207.5_demo.json"
START = datetime(2025, 9, 8, 0, 0, 5, tzinfo=UTC)
POLLS = 8640


def write_day(path: Path) -> None:
    base = json.loads(FIXTURE.read_text(encoding="utf-8"))
    lp1, lp2 = base["loadpoints"]
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
            state.update(pvPower=round(4000 + 1000 * ((i % 97) / 97), 3), homePower=400 + i % 300,
                         grid={**base["grid"], "power": round(1000 - (i % 113) * 7.5, 3)}, batterySoc=20 + i % 60)
            out.write(json.dumps({"t": t.isoformat().replace("+00:00", "Z"), "state": state},
                                 separators=(",", ":")) + "\n")


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
    logger.remove()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.jsonl"
        write_day(path)
        size_mb = path.stat().st_size / 1e6
        rates: dict[str, float] = {"json.loads": 0.0, "pipeline": 0.0}
        for _ in range(3):
            for name, fn in (("json.loads", bare_decode), ("pipeline", pipeline)):
                rate, _ = best_rate(fn, path, 1)
                rates[name] = max(rates[name], rate)
        print(f"recording: {POLLS} polls, {size_mb:.1f} MB ({size_mb * 1e6 / POLLS / 1e3:.1f} kB/line)")
        print(f"baseline json.loads per line : {rates['json.loads']:10.0f} states/s")
        print(f"whole pipeline (replay)      : {rates['pipeline']:10.0f} states/s")
        ratio = rates["pipeline"] / rates["json.loads"]
        verdict = "met" if ratio >= 1 else "MISSED (the replay now runs the planner on every snapshot)"
        print(f"ratio pipeline / json.loads  : {ratio:10.2f}  (target >= 1: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
