"""Scenario: two cars share one wallbox; the handoff follows the first car's target at once.

The recording (tests/recordings/make_handoff.py) comes from the embedded simulator: zoe
charges towards 80 % while ioniq waits. Completion is detected on the SoC event itself,
so the handoff must come within one poll interval of the poll that shows the target.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from pathlib import Path

from smartload.recording.replay import open_recording, replay_with_settings
from smartload.settings import Settings

RECORDING = Path(__file__).parent / "recordings" / "handoff_shared_wallbox.jsonl.gz"


def first_poll_at_target(target_pct: float) -> datetime:
    with gzip.open(RECORDING, "rt", encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            row = json.loads(line)
            lp = row["state"]["loadpoints"][0]
            if lp["vehicleName"] == "zoe" and lp["vehicleSoc"] >= target_pct:
                return datetime.fromisoformat(row["t"])
    raise AssertionError("zoe never reaches its target in the recording")


def test_handoff_within_one_poll_interval_of_the_target_being_reached():
    report = replay_with_settings(open_recording(RECORDING), Settings(), explicit_settings=False)
    reached = first_poll_at_target(80 - 0.5)
    [ended] = report["requests_ended"]
    assert (ended["vehicle"], ended["reason"]) == ("zoe", "target reached")
    handoff, corrected = report["handoffs"]
    assert (handoff["vehicle"], handoff["wallbox"], handoff["replaces"]) == ("ioniq", 1, "zoe")
    handed_at = datetime.fromisoformat(handoff["at"])
    assert timedelta(0) <= handed_at - reached <= timedelta(seconds=10)
    # ioniq's SoC is still unknown (planned at unknown_soc_pct, 20 %): the night's cheapest
    # hours from 01:00 local.
    assert handoff["by"] == "2024-07-15T23:00:00Z"
    # A snapshot was taken for the completion itself, not only at the next quarter-hour.
    assert [t["at"] for t in report["ticks"] if t["reason"] == "zoe target reached"] == [handoff["at"]]
    # The routine refresh of the waiting ioniq brings 40 %: that re-plans at once (not at
    # the next quarter-hour), and ioniq, needing less, is due an hour later.
    refresh = next(r for r in report["refreshes"] if r["vehicle"] == "ioniq" and r["status"] == "ok")
    assert (refresh["soc_pct"], refresh["finished_at"]) == (40.0, "2024-07-15T20:00:10Z")
    assert [t["at"] for t in report["ticks"] if t["reason"].startswith("ioniq SoC 40 %")] == [corrected["at"]]
    assert (corrected["at"], corrected["vehicle"], corrected["by"]) == ("2024-07-15T20:00:10Z", "ioniq",
                                                                        "2024-07-16T00:00:00Z")
