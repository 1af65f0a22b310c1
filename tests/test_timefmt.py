"""iso, iso_utc and parse_iso: the one way times become text and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smartload.timefmt import iso, iso_utc, parse_iso

BERLIN_SUMMER = timezone(timedelta(hours=2))


def test_iso_is_utc_with_z() -> None:
    assert iso(datetime.fromisoformat("2025-09-08T12:00:00+02:00")) == "2025-09-08T10:00:00Z"
    assert iso(datetime(2025, 9, 8, 10, 0, 0, 250000, tzinfo=UTC)) == "2025-09-08T10:00:00.250000Z"
    assert iso(None) is None


def test_iso_utc_is_how_times_are_stored() -> None:
    assert iso_utc(datetime(2025, 9, 8, 12, tzinfo=BERLIN_SUMMER)) == "2025-09-08T10:00:00+00:00"
    assert iso_utc(datetime(2025, 9, 8, 10, 0, 0, 5, tzinfo=UTC)) == "2025-09-08T10:00:00.000005+00:00"


def test_parse_iso_reads_z_offsets_and_naive_times() -> None:
    at = datetime(2025, 9, 8, 10, tzinfo=UTC)
    assert parse_iso("2025-09-08T10:00:00Z") == at
    assert parse_iso("2025-09-08T10:00:00Z").tzinfo is UTC
    assert parse_iso("2025-09-08T12:00:00+02:00") == at
    assert parse_iso("2025-09-08T10:00:00").tzinfo is None
    assert parse_iso(iso(at)) == parse_iso(iso_utc(at)) == at
    with pytest.raises(ValueError):
        parse_iso("tomorrow")
