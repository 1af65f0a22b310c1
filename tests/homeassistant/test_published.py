"""The record of announced config topics: a bad or missing file, or a data directory that
cannot be written, costs only the clean-up, never the bridge."""

from __future__ import annotations

import json

import pytest
from loguru import logger

from smartload.homeassistant.published import FILE, PublishedConfigs


@pytest.fixture
def warnings():
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(m.record["message"]), level="WARNING")
    yield seen
    logger.remove(sink)


def test_a_record_round_trips_and_a_missing_one_is_empty(tmp_path) -> None:
    record = PublishedConfigs(tmp_path / "data")
    assert record.load() == set()
    record.save({"homeassistant/sensor/sl/b/config", "homeassistant/sensor/sl/a/config"})
    assert json.loads((tmp_path / "data" / FILE).read_text()) == {
        "topics": ["homeassistant/sensor/sl/a/config", "homeassistant/sensor/sl/b/config"]}
    assert record.load() == {"homeassistant/sensor/sl/a/config", "homeassistant/sensor/sl/b/config"}
    assert [p.name for p in (tmp_path / "data").iterdir()] == [FILE]  # no partial file left


@pytest.mark.parametrize(("text", "why"), [
    ("{not json", "unreadable (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ('{"topics": "homeassistant/sensor/sl/a/config"}', "not a list of topics"),
    ('["homeassistant/sensor/sl/a/config"]', "not a list of topics"),
    ('{"topics": [1, 2]}', "not a list of topics"),
])
def test_a_bad_record_is_reported_and_read_as_empty(tmp_path, warnings, text, why) -> None:
    (tmp_path / FILE).write_text(text)
    assert PublishedConfigs(tmp_path).load() == set()
    assert warnings == [f"{tmp_path / FILE}: {why}; entities announced before may stay in Home Assistant"]


def test_a_data_directory_that_cannot_be_written_is_reported_not_raised(tmp_path, warnings) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the directory should be")
    PublishedConfigs(blocker).save({"homeassistant/sensor/sl/a/config"})
    assert len(warnings) == 1 and warnings[0].startswith(f"{blocker / FILE}: cannot record the announced entities (")
