from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from smartload.settings.providers import ManualSettings
from smartload.vehicles.base import ProviderUnsupported
from smartload.vehicles.manual import build

SETTINGS = ManualSettings(type="manual")


async def test_set_value_survives_a_restart(tmp_path: Path, clock) -> None:
    provider = build("zoe", SETTINGS, data_dir=tmp_path / "data", clock=clock)
    at = datetime(2025, 6, 2, 9, 30, tzinfo=timezone(timedelta(hours=2)))  # 07:30 UTC, as a phone sends it

    provider.set("zoe", 42.0, at)
    clock.advance(minutes=45)
    restarted = build("zoe", SETTINGS, data_dir=tmp_path / "data", clock=clock)
    reading = await restarted.fetch("zoe")

    assert (reading.vehicle, reading.soc_pct, reading.source) == ("zoe", 42.0, "manual")
    assert reading.measured_at == datetime(2025, 6, 2, 7, 30, tzinfo=UTC)
    assert reading.received_at == clock.now
    assert reading.measured_at_known is True
    assert json.loads((tmp_path / "data" / "manual_soc.json").read_text()) == {
        "zoe": {"at": "2025-06-02T07:30:00+00:00", "set_at": "2025-06-02T08:00:00+00:00", "soc_pct": 42.0}
    }


async def test_two_cars_share_the_file_without_losing_each_other(tmp_path: Path, clock) -> None:
    zoe = build("zoe", SETTINGS, data_dir=tmp_path, clock=clock)
    kona = build("kona", SETTINGS, data_dir=tmp_path, clock=clock)
    zoe.set("zoe", 10.0)
    kona.set("kona", 90.0)
    zoe.set("zoe", 11.0)

    assert (await zoe.fetch("zoe")).soc_pct == 11.0
    assert (await kona.fetch("kona")).soc_pct == 90.0
    assert (await zoe.fetch("zoe")).measured_at == clock.now


async def test_nothing_entered_or_too_old_is_unsupported(tmp_path: Path, clock) -> None:
    provider = build("zoe", TypeAdapter(ManualSettings).validate_python({"type": "manual", "max_age": "12h"}),
                     data_dir=tmp_path, clock=clock)
    with pytest.raises(ProviderUnsupported, match=r"^manual: no SoC entered for zoe$"):
        await provider.fetch("zoe")
    provider.set("zoe", 50.0, clock.now - timedelta(hours=12))
    assert (await provider.fetch("zoe")).soc_pct == 50.0
    clock.advance(seconds=1)
    with pytest.raises(ProviderUnsupported, match="older than 12:00:00"):
        await provider.fetch("zoe")


def test_set_rejects_nonsense(tmp_path: Path, clock) -> None:
    provider = build("zoe", SETTINGS, data_dir=tmp_path, clock=clock)
    with pytest.raises(ValueError, match=r"within 0..100"):
        provider.set("zoe", 101.0)
    with pytest.raises(ValueError, match="time zone"):
        provider.set("zoe", 50.0, datetime(2025, 6, 2, 8, 0))
    with pytest.raises(ValueError, match="future"):
        provider.set("zoe", 50.0, clock.now + timedelta(minutes=6))
    provider.set("zoe", 50.0, clock.now + timedelta(minutes=5))
    assert not (tmp_path / "zoe").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["manual_soc.json"]


async def test_corrupt_file_is_reported_not_raised(tmp_path: Path, clock) -> None:
    (tmp_path / "manual_soc.json").write_text("{not json")
    provider = build("zoe", SETTINGS, data_dir=tmp_path, clock=clock)
    with pytest.raises(ProviderUnsupported, match=r"manual_soc.json is unreadable"):
        await provider.fetch("zoe")
