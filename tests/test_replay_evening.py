"""Scenario: a recorded 6-hour evening of a two-car household, replayed in virtual time.

The recording (tests/recordings/make_evening.py says how it was built from evcc's real
0.207.5 state) carries its vehicles: vehicle_1 (budget 2 calls/day) and vehicle_2, both
answered by the fake cloud after 20 s of virtual latency.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartload.__main__ import main
from smartload.recording.replay import open_recording, replay_with_settings
from smartload.settings import Settings

RECORDING = Path(__file__).parent / "recordings" / "evening_two_cars.jsonl.gz"


@pytest.fixture(scope="module")
def report() -> dict:
    return replay_with_settings(open_recording(RECORDING), Settings(), explicit_settings=False)


def test_refreshes_are_requested_at_the_first_poll_showing_each_edge(report):
    got = [(r["vehicle"], r["edge"], r["edge_at"], r["requested_at"], r["status"], r["finished_at"])
           for r in report["refreshes"]]
    assert got == [
        # already plugged in when the recording starts (17:00:05 local)
        ("vehicle_2", "startup", "2025-09-08T15:00:05Z", "2025-09-08T15:00:05Z", "ok", "2025-09-08T15:00:25Z"),
        # physically plugged in at 15:32:10Z, first poll 15:32:15Z: within one poll interval
        ("vehicle_1", "plugged", "2025-09-08T15:32:15Z", "2025-09-08T15:32:15Z", "ok", "2025-09-08T15:32:35Z"),
        # re-plugged at 15:35:35Z after 90 s away: the same stay, already asked; skipped, and said so
        ("vehicle_1", "plugged", "2025-09-08T15:35:35Z", "2025-09-08T15:35:35Z", "throttled", None),
        # unplugged at 18:05:05Z: an hour later its cloud would be asked again, but that
        # spare call may not use the second half of its budget of 2
        ("vehicle_1", "unplugged", "2025-09-08T19:05:05Z", "2025-09-08T19:05:05Z", "budget_reserved", None),
        # plugged at 19:10:00Z; evcc identifies the car at 19:10:45Z showing a new SoC, which
        # counts as read at that poll (streams/soc.py): measured since the plug-in, no call
        ("vehicle_1", "plugged", "2025-09-08T19:10:45Z", "2025-09-08T19:10:45Z", "fresh", None),
        # plugged in at loadpoint 2 at 20:40:05Z after 10 minutes away: evcc again shows a new SoC
        ("vehicle_1", "plugged", "2025-09-08T20:40:05Z", "2025-09-08T20:40:05Z", "fresh", None),
    ]
    reasons = [r["reason"] for r in report["refreshes"] if r["status"] != "ok"]
    assert reasons == [
        "asked at 17:32:15 for the plug-in at 17:32:15 (back after 90 s away; at the wallboxes since 17:32:15)",
        "routine refreshes may use 1 of the 2 calls a day; the rest is kept for plug-ins",
        "measured at 21:10:45 by evcc, after the plug-in at 21:10:05",
        "measured at 22:40:05 by evcc, after the plug-in at 22:40:05",
    ]


def test_readings_carry_the_clouds_measurement_time(report):
    first = report["refreshes"][1]
    assert (first["soc_pct"], first["source"], first["measured_at"]) == (52, "fake", "2025-09-08T15:22:35Z")


def test_edges_include_the_throttled_replug_and_the_delayed_identification(report):
    edges = [(e["vehicle"], e["reason"], e["loadpoint"], e["plugged_at"], e["at"]) for e in report["edges"]]
    assert edges == [
        ("vehicle_2", "startup", 2, "2025-09-08T15:00:05Z", "2025-09-08T15:00:05Z"),
        ("vehicle_1", "plugged", 1, "2025-09-08T15:32:15Z", "2025-09-08T15:32:15Z"),
        ("vehicle_1", "plugged", 1, "2025-09-08T15:35:35Z", "2025-09-08T15:35:35Z"),
        ("vehicle_1", "plugged", 1, "2025-09-08T19:10:05Z", "2025-09-08T19:10:45Z"),
        ("vehicle_1", "plugged", 2, "2025-09-08T20:40:05Z", "2025-09-08T20:40:05Z"),
    ]


def test_no_refresh_and_no_edge_for_the_guest(report):
    # The guest was at loadpoint 1 from 18:20Z to 18:50Z.
    assert not [e for e in report["edges"] if "18:2" in e["at"] or "18:3" in e["at"] or "18:4" in e["at"]]
    assert {r["vehicle"] for r in report["refreshes"]} == {"vehicle_1", "vehicle_2"}


def test_errors_and_the_outage_are_reported_and_polling_resumes(report):
    errors = [(e["at"], e["kind"]) for e in report["errors"]]
    assert errors == [
        ("2025-09-08T16:13:05Z", "connect"),
        ("2025-09-08T16:13:15Z", "connect"),
        ("2025-09-08T16:13:35Z", "connect"),
        ("2025-09-08T16:14:15Z", "connect"),
        ("2025-09-08T16:15:15Z", "connect"),
        ("2025-09-08T17:02:05Z", "http"),
        ("2025-09-08T17:30:05Z", "parse"),
    ]
    assert report["outages"] == [
        {"started_at": "2025-09-08T16:13:05Z", "ended_at": None, "failed_polls": 1,
         "first_error": "connect: All connection attempts failed"},
        # backoff 10, 20, 40, 60, 60 s: evcc is back at 16:16:00Z, the poll at 16:16:15Z resumes
        {"started_at": "2025-09-08T16:13:05Z", "ended_at": "2025-09-08T16:16:15Z", "failed_polls": 5,
         "first_error": "connect: All connection attempts failed"},
        # the HTTP 500 is a one-poll outage; the non-JSON body is evcc answering, not an outage
        {"started_at": "2025-09-08T17:02:05Z", "ended_at": None, "failed_polls": 1,
         "first_error": "http: HTTP 500 Internal Server Error"},
        {"started_at": "2025-09-08T17:02:05Z", "ended_at": "2025-09-08T17:02:15Z", "failed_polls": 1,
         "first_error": "http: HTTP 500 Internal Server Error"},
    ]
    assert report["polls"] == 2146


def test_a_snapshot_every_quarter_hour_and_on_each_plug_in(report):
    ticks = [t["at"] for t in report["ticks"] if t["reason"] == "tick"]
    assert len(ticks) == 23 and ticks[0] == "2025-09-08T15:15:00Z" and ticks[-1] == "2025-09-08T20:45:00Z"
    events = [(t["at"], t["reason"]) for t in report["ticks"] if t["reason"] != "tick"]
    assert events == [
        ("2025-09-08T15:00:05Z", "startup vehicle_2 at loadpoint 2"),
        ("2025-09-08T15:32:15Z", "plugged vehicle_1 at loadpoint 1"),
        # The cloud's answer differs from evcc's value the plug-in's plan used: re-planned
        # at once, not at the next quarter-hour.
        ("2025-09-08T15:32:35Z", "vehicle_1 SoC 52 % from fake (the plan used 48 %)"),
        ("2025-09-08T15:34:05Z", "vehicle_1 unplugged"),
        ("2025-09-08T15:35:35Z", "plugged vehicle_1 at loadpoint 1"),
        # The outage from 16:13:05Z: no plan from the old state; re-planned when evcc is back.
        ("2025-09-08T16:16:15Z", "evcc answers again"),
        ("2025-09-08T18:05:05Z", "vehicle_1 unplugged"),
        ("2025-09-08T19:10:45Z", "plugged vehicle_1 at loadpoint 1"),
        ("2025-09-08T20:20:05Z", "vehicle_2 unplugged"),
        ("2025-09-08T20:30:05Z", "vehicle_1 unplugged"),
        ("2025-09-08T20:40:05Z", "plugged vehicle_1 at loadpoint 2"),
    ]


def test_each_tick_sees_the_newest_soc_with_source_and_age(report):
    snapshots = {(t["at"], t["reason"]): t for t in report["ticks"]}
    startup = snapshots[("2025-09-08T15:00:05Z", "startup vehicle_2 at loadpoint 2")]["socs"]["vehicle_2"]
    # evcc's value at first sight has an unknown age; the cloud has not answered yet.
    assert (startup["soc_pct"], startup["source"], startup["age_s"]) == (59.8, "evcc", None)
    assert startup["first_seen_at"] == "2025-09-08T15:00:05Z"
    # The cloud's 61 % (measured 14:57:25Z, arrived 15:00:25Z) displaced it; evcc's next
    # change while charging (15:05:05Z) is newer again, and so on.
    tick = snapshots[("2025-09-08T15:15:00Z", "tick")]["socs"]["vehicle_2"]
    assert (tick["soc_pct"], tick["source"], tick["measured_at"], tick["age_s"]) == (
        60.2, "evcc", "2025-09-08T15:10:05Z", 295.0)
    # vehicle_1 plugged in at 15:32:15Z showing its old 48.3 %: the cloud's 52 % measured
    # 15:22:35Z wins over that unknown-age value until evcc sees the SoC move.
    plug = snapshots[("2025-09-08T15:35:35Z", "plugged vehicle_1 at loadpoint 1")]["socs"]["vehicle_1"]
    assert (plug["soc_pct"], plug["source"], plug["measured_at"]) == (52, "fake", "2025-09-08T15:22:35Z")
    later = snapshots[("2025-09-08T15:45:00Z", "tick")]["socs"]["vehicle_1"]
    assert (later["soc_pct"], later["source"], later["measured_at"]) == (48.5, "evcc", "2025-09-08T15:40:35Z")


def test_ticks_during_the_outage_carry_the_last_good_state_and_the_error(report):
    snapshots = {(t["at"], t["reason"]): t for t in report["ticks"]}
    during = snapshots[("2025-09-08T16:15:00Z", "tick")]
    assert during["evcc"]["polled_at"] == "2025-09-08T16:12:55Z"
    assert during["last_error"] == {"at": "2025-09-08T16:14:15Z", "kind": "connect",
                                    "message": "All connection attempts failed"}
    after = snapshots[("2025-09-08T16:30:00Z", "tick")]
    assert (after["evcc"]["polled_at"], after["last_error"]) == ("2025-09-08T16:29:55Z", None)


def test_the_cli_writes_the_same_report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["replay", str(RECORDING), "--report", "r.json"]) == 0
    written = json.loads((tmp_path / "r.json").read_text())
    assert [r["requested_at"] for r in written["refreshes"]] == [
        "2025-09-08T15:00:05Z", "2025-09-08T15:32:15Z", "2025-09-08T15:35:35Z", "2025-09-08T19:05:05Z",
        "2025-09-08T19:10:45Z", "2025-09-08T20:40:05Z",
    ]
    # The planner's writes are observed, not sent: each goes to a loadpoint one of our
    # cars was plugged into at that moment, never to the guest's.
    actions = written["actions"]
    assert actions and all(a["method"] == "POST" and a["path"].startswith("/api/loadpoints/") for a in actions)
    assert not [a for a in actions if "2025-09-08T18:20" <= a["at"] < "2025-09-08T18:51"]
    assert written["handoffs"] == [] and written["overrides"] == []
    # Unplugged in the evening, ten hours before the 07:00 departure, the cars come back for
    # it: no request ends (each unplug re-plans, above).
    assert written["requests_ended"] == []


def test_replay_of_a_file_that_is_not_a_recording_exits_2(tmp_path, capsys):
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"hello": 1}\n')
    assert main(["replay", str(bad)]) == 2
    assert "not a smartload recording" in capsys.readouterr().err
