"""SMARTLOAD_* variables laid over settings.yaml (settings/environment.py): pydantic-settings'
rules, which it replaced, plus JSON for a mapping's entries and errors naming the variable."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from smartload.settings import SettingsError, load_settings
from smartload.settings.environment import EnvJsonError, env_data, merge

FILE = """\
evcc: {url: "http://evcc.local:7070"}
vehicles:
  zoe: {capacity_kwh: 52, title: Zoe}
"""


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.upper().startswith("SMARTLOAD_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "settings.yaml"
    path.write_text(FILE)
    return path


def test_a_nested_variable_overrides_one_key_and_keeps_the_rest(settings_file, monkeypatch):
    monkeypatch.setenv("SMARTLOAD_VEHICLES__ZOE__CAPACITY_KWH", "40")
    monkeypatch.setenv("smartload_evcc__poll_interval", "5s")
    settings = load_settings(settings_file)
    assert settings.vehicles["zoe"].capacity_kwh == 40.0
    assert settings.vehicles["zoe"].title == "Zoe"
    assert str(settings.evcc.url) == "http://evcc.local:7070"
    assert settings.evcc.poll_interval == timedelta(seconds=5)


def test_sections_lists_and_mapping_entries_hold_json(settings_file, monkeypatch):
    monkeypatch.setenv("SMARTLOAD_VEHICLES__IONIQ", '{"capacity_kwh": 77}')
    monkeypatch.setenv("SMARTLOAD_WEB__TRUSTED_PROXIES", '["172.30.32.2"]')
    monkeypatch.setenv("SMARTLOAD_EVCC", '{"url": "http://other:7070"}')
    monkeypatch.setenv("SMARTLOAD_EVCC__POLL_INTERVAL", "20s")
    settings = load_settings(settings_file)
    assert sorted(settings.vehicles) == ["ioniq", "zoe"]
    assert settings.vehicles["ioniq"].capacity_kwh == 77.0
    assert settings.web.trusted_proxies == ["172.30.32.2"]
    assert str(settings.evcc.url) == "http://other:7070"
    assert settings.evcc.poll_interval == timedelta(seconds=20)


def test_a_list_that_is_not_json_names_its_variable_and_never_its_value(settings_file, monkeypatch):
    monkeypatch.setenv("SMARTLOAD_WEB__TRUSTED_PROXIES", "[172.30.32.2, s3cret")
    with pytest.raises(SettingsError) as caught:
        load_settings(settings_file)
    assert caught.value.problems == ["env SMARTLOAD_WEB__TRUSTED_PROXIES: web.trusted_proxies: not valid JSON"]


def test_variables_that_name_no_section_are_left_alone(settings_file, monkeypatch):
    monkeypatch.setenv("SMARTLOAD_SETTINGS", str(settings_file))
    monkeypatch.setenv("SMARTLOAD_ADDON_OPTIONS", "/data/options.json")
    monkeypatch.setenv("SMARTLOAD_VEHICLES__", "x")
    assert sorted(load_settings(settings_file).vehicles) == ["zoe"]


class _Inner(BaseModel):
    size: int = 0


class _Model(BaseModel):
    either: _Inner | str = "plain"
    inner: _Inner = _Inner()


def test_a_union_that_allows_a_plain_value_keeps_what_is_not_json():
    assert env_data(_Model, {"SMARTLOAD_EITHER": "word"}) == {"either": "word"}
    assert env_data(_Model, {"SMARTLOAD_EITHER": '{"size": 3}'}) == {"either": {"size": 3}}
    with pytest.raises(EnvJsonError, match=r"^env SMARTLOAD_INNER: inner: not valid JSON$"):
        env_data(_Model, {"SMARTLOAD_INNER": "size=3"})


def test_merge_lays_mappings_over_each_other_key_by_key():
    assert merge({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"c": 3}, "d": [2]}) == {"a": {"b": 1, "c": 3}, "d": [2]}


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("SMARTLOAD_NOTIFY", "null", "env SMARTLOAD_NOTIFY: notify: Input should be a valid dictionary or instance of "
                                 "NotifySettings"),
    ("SMARTLOAD_WEB__TRUSTED_PROXIES", "", "env SMARTLOAD_WEB__TRUSTED_PROXIES: web.trusted_proxies: not valid JSON"),
])
def test_a_null_or_empty_section_is_an_error_not_ignored(settings_file, monkeypatch, name, value, problem):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(settings_file)
    assert caught.value.problems == [problem]
