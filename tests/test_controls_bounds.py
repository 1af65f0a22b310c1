"""Controls.add_request is the one check every request passes (web API and MQTT alike):
a departure more than 14 days ahead, a target outside 1-100 %, an unbounded energy or
priority is refused naming the field, and nothing is stored, told or planned for it."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smartload.homeassistant.commands import CommandError, apply_command
from smartload.requests import ChargeRequest
from smartload.settings.types import REQUEST_MAX_AHEAD
from tests.web.builders import NOW, Parts, make_parts, settings


@pytest.fixture
def parts(tmp_path):
    made = make_parts(settings(tmp_path), with_history=False)
    yield made
    made.close()


def unchanged(parts: Parts) -> None:
    assert parts.store.open_requests() == {}
    assert parts.store.boosts(NOW) == {}
    assert list(parts.system.live.events) == []


@pytest.mark.parametrize(("request_", "error"), [
    (ChargeRequest("ioniq", datetime(9999, 12, 31, 23, tzinfo=UTC), 60.0),
     "departure: must be at most 14 days ahead"),
    (ChargeRequest("ioniq", NOW + REQUEST_MAX_AHEAD + timedelta(seconds=1), 60.0),
     "departure: must be at most 14 days ahead"),
    (ChargeRequest("ioniq", datetime(1, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")), 60.0),
     "departure: must be in the future"),
    (ChargeRequest("ioniq", datetime(2026, 3, 3, 6), 60.0), "departure: needs a time zone"),
    (ChargeRequest("ioniq", NOW + timedelta(hours=9), math.nan), "target_soc_pct: must be between 1 and 100"),
    (ChargeRequest("ioniq", NOW + timedelta(hours=9), 0.5), "target_soc_pct: must be between 1 and 100"),
    (ChargeRequest("ioniq", NOW + timedelta(hours=9), None, math.inf), "energy_kwh: must be above 0 and at most 500"),
    (ChargeRequest("ioniq", NOW + timedelta(hours=9), None, None), "target_soc_pct: give either target_soc_pct or "
                                                                   "energy_kwh"),
    (ChargeRequest("ioniq", NOW + timedelta(hours=9), 60.0, priority=101),
     "priority: must be a whole number from 0 to 100"),
    (ChargeRequest("ioniq", NOW + timedelta(hours=9), 60.0, priority=True),
     "priority: must be a whole number from 0 to 100"),
])
def test_controls_refuse_a_request_out_of_bounds_and_change_nothing(parts, request_, error):
    with pytest.raises(ValueError) as raised:
        parts.system.controls.add_request(request_)
    assert str(raised.value) == error
    unchanged(parts)


def test_controls_refuse_an_unknown_vehicle_before_anything_else(parts):
    with pytest.raises(KeyError, match="vehicle: unknown vehicle 'golf'"):
        parts.system.controls.add_request(ChargeRequest("golf", datetime(9999, 1, 1, tzinfo=UTC), 60.0))
    unchanged(parts)


def test_a_request_given_in_another_offset_is_stored_in_utc(parts):
    stored = parts.system.controls.add_request(
        ChargeRequest("ioniq", datetime(2026, 3, 3, 5, 30, tzinfo=ZoneInfo("America/New_York")), 60.0))
    assert stored.departure == datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
    assert stored.departure.tzinfo is UTC
    assert parts.store.open_requests()["ioniq"].departure == datetime(2026, 3, 3, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(("command", "payload", "error"), [
    ("departure", "9999-12-31T23:00:00+00:00", "departure: must be at most 14 days ahead"),
    ("departure", "9999-12-31T23:59:59-01:00", "departure: must be at most 14 days ahead"),
    ("departure", "0001-01-01T00:00:00", "departure: must be in the future"),
    ("target_soc", "0.5", "target_soc_pct: must be between 1 and 100"),
    ("target_soc", "nan", "target_soc_pct: not a number: 'nan'"),
    ("target_soc", "9" * 5000, f"target_soc_pct: not a number: {'9' * 32!r}"),
    ("boost", "1e999", "minutes: not a number: '1e999'"),
    ("boost", "-inf", "minutes: not a number: '-inf'"),
    ("boost", "100000", "minutes: must be between 1 and 1440"),
    ("soc", "inf", "soc_pct: not a number: 'inf'"),
    ("soc", "101", "soc_pct: must be between 0 and 100"),
])
def test_mqtt_commands_meet_the_same_bounds_and_change_nothing(parts, command, payload, error):
    with pytest.raises(CommandError) as raised:
        apply_command(parts.system, "ioniq", command, payload, boost_minutes=60)
    assert str(raised.value) == error
    unchanged(parts)


def test_an_mqtt_target_within_bounds_becomes_a_request(parts):
    done = apply_command(parts.system, "ioniq", "target_soc", "100", boost_minutes=60)
    assert done == "ioniq: 100 % by 2026-03-03T06:00:00+00:00"  # Tuesday 07:00 in Berlin, the default departure


def test_a_request_stored_before_the_bounds_is_ended_and_the_default_applies(parts):
    # As an older version stored it from the API: every plan failed on it (OverflowError).
    parts.store.add(ChargeRequest("ioniq", datetime(9999, 12, 31, 23, tzinfo=UTC), 60.0, source="api"), NOW)
    assert parts.store.open_requests()["ioniq"].departure.year == 9999
    in_force = parts.system.planning.sequencer.requests(NOW)
    assert in_force["ioniq"] == ChargeRequest("ioniq", datetime(2026, 3, 3, 6, tzinfo=UTC), 80.0)  # the default
    assert parts.store.open_requests() == {}
    with sqlite3.connect(parts.system.settings.data_dir / "smartload.db") as db:
        assert db.execute("SELECT end_reason FROM requests").fetchall() == [("out of bounds",)]
