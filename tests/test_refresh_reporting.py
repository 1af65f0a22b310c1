"""How refresh outcomes reach people and reports: a skip is logged at INFO with its
reason, a failure as a warning with the retry planned; report entries carry both."""

from __future__ import annotations

from datetime import timedelta

from loguru import logger

from smartload.domain import RefreshOutcome, SocReading
from smartload.events import EventBus
from smartload.narrate import refresh_event, tell
from smartload.recording.records import refresh_record
from tests.builders import at

FRESH = RefreshOutcome("a", at(280), at(280), "fresh",
                       reason="measured at 17:04:10 by evcc, after the plug-in at 17:04:00", edge_reason="plugged")
FAILED = RefreshOutcome("a", at(0), at(0), "failed", at(5), error="HTTP 429",
                        reason="the cloud is not asked again before 17:10:05; retry at 17:10:05 while plugged in "
                               "without a newer reading", edge_reason="plugged")


def told(outcome: RefreshOutcome) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    sink = logger.add(lambda m: lines.append((m.record["level"].name, m.record["message"])), level=0)
    try:
        tell(EventBus(), refresh_event(outcome))
    finally:
        logger.remove(sink)
    return lines


def test_a_skipped_refresh_is_logged_at_info_with_its_reason():
    assert told(FRESH) == [
        ("INFO", "a SoC refresh skipped (fresh): measured at 17:04:10 by evcc, after the plug-in at 17:04:00")]
    event = refresh_event(FRESH)
    assert (event.kind, event.data["status"], event.data["edge"], event.data["retry"]) == (
        "refresh", "fresh", "plugged", 0)


def test_a_failed_refresh_is_a_warning_that_says_when_it_is_tried_again():
    assert told(FAILED) == [("WARNING", "a SoC refresh failed: HTTP 429; the cloud is not asked again before "
                                        "17:10:05; retry at 17:10:05 while plugged in without a newer reading")]


def test_a_reading_is_told_with_its_age():
    reading = SocReading("a", 63.0, "fake", at(50) - timedelta(minutes=7), at(50))
    ok = RefreshOutcome("a", at(30), at(30), "ok", at(50), reading, reason="plug-in at 17:00:30", edge_reason="plugged")
    assert told(ok) == [("INFO", "a SoC 63 % from fake (measured 7 min ago)")]


def test_report_entries_carry_status_reason_edge_and_retry():
    retry = RefreshOutcome("a", at(0), at(605), "cancelled", reason="retry due at 17:10:05 not needed: the car left "
                           "at 17:08:20", edge_reason="plugged", retry=1)
    assert refresh_record(retry) == {
        "vehicle": "a", "edge_at": "2026-03-02T17:00:00Z", "requested_at": "2026-03-02T17:10:05Z",
        "finished_at": None, "status": "cancelled",
        "reason": "retry due at 17:10:05 not needed: the car left at 17:08:20", "edge": "plugged", "retry": 1,
        "soc_pct": None, "source": None, "measured_at": None, "error": None,
    }
