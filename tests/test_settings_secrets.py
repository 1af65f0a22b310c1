"""Settings errors never show a secret: not the value of an unknown key (a misspelt
PASSWORD), not a secret field's value (web.token), not a password in a URL; and the log
redacts tracebacks as it redacts messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loguru import logger
from pydantic import SecretStr

from smartload.__main__ import main
from smartload.logsetup import LogConfig, redact
from smartload.settings import Settings
from smartload.settings.types import StrictModel, secret_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def shipped(monkeypatch, tmp_path):
    """The shipped settings.yaml, its data in a temporary directory."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SMARTLOAD_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_a_misspelt_password_in_the_environment_is_named_but_never_shown(shipped, monkeypatch, capsys, command):
    monkeypatch.setenv("SMARTLOAD_VEHICLES__ZOE__PROVIDER__PASSWROD", "typoSecret")
    assert main([command]) == 2
    captured = capsys.readouterr()
    assert captured.err == ("env SMARTLOAD_VEHICLES__ZOE__PROVIDER__PASSWROD: vehicles.zoe.provider.http_json.passwrod:"
                            " Extra inputs are not permitted\n")
    assert "typoSecret" not in captured.out + captured.err


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_a_too_short_web_token_is_not_echoed(shipped, monkeypatch, capsys, command):
    monkeypatch.setenv("SMARTLOAD_WEB__TOKEN", "short-Secret")
    assert main([command]) == 2
    captured = capsys.readouterr()
    assert captured.err == "env SMARTLOAD_WEB__TOKEN: web.token: must be at least 16 characters\n"
    assert "short-Secret" not in captured.out + captured.err


def test_secret_fields_anywhere_in_the_path_are_not_echoed_and_others_still_are(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "evcc: {url: 'http://evcc.local', password: [hunter2]}\n"
        "mqtt: {host: broker, password: 12345678}\n"
        "notify: {telegram: {bot_token: 42, chat_id: c}, webhook: {url: 'http://x', headers: {X-Key: [k3y]}}}\n"
        "vehicles:\n"
        "  zoe:\n"
        "    capacity_kwh: 52\n"
        "    provider: {type: http_json, url: 'http//me:pa55word@cloud', headers: {Authorization: 7}}\n"
        "  ioniq: {capacity_kwh: 'lots'}\n"
    )
    assert main(["--settings", str(bad), "check-config"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"{bad}: evcc.password: Input should be a valid string",
        f"{bad}: vehicles.zoe.provider.http_json.url: must be an http(s):// URL or embedded:/path (the embedded "
        "simulator) (got 'http//***@cloud')",
        f"{bad}: vehicles.zoe.provider.http_json.headers.Authorization: Input should be a valid string",
        f"{bad}: vehicles.ioniq.capacity_kwh: Input should be a valid number, unable to parse string as a number "
        "(got 'lots')",
        f"{bad}: mqtt.password: Input should be a valid string",
        f"{bad}: notify.webhook.headers.X-Key: Input should be a valid string",
        f"{bad}: notify.telegram.bot_token: Input should be a valid string",
    ]
    # Without the file's path: pytest's temporary folder (pytest-of-root/pytest-422/...)
    # may hold a secret's digits.
    said = err.replace(str(bad), "")
    for secret in ("hunter2", "12345678", "42", "k3y", "pa55word"):
        assert secret not in said


def test_an_environment_section_that_is_not_json_is_one_line_without_its_value(shipped, monkeypatch, capsys):
    monkeypatch.setenv("SMARTLOAD_VEHICLES", '{"zoe": {"provider": {"password": "s3cr3t"')
    assert main(["check-config"]) == 2
    err = capsys.readouterr().err
    assert err == "env SMARTLOAD_VEHICLES: vehicles: not valid JSON\n"


class _Custom(StrictModel):
    code: SecretStr
    note: str = ""


def test_secret_path_knows_secret_types_secret_names_and_unknown_keys():
    assert secret_path(_Custom, ("code",))  # a SecretStr, whatever its name
    assert not secret_path(_Custom, ("note",))
    assert secret_path(_Custom, ("nothing",))  # unknown: may be a misspelt secret
    assert secret_path(Settings, ("vehicles", "zoe", "provider", "kia", "pin"))
    assert secret_path(Settings, ("vehicles", "zoe", "provider", "http_json", "headers", "X-Custom"))
    assert not secret_path(Settings, ("vehicles", "zoe", "provider", "http_json", "soc_path"))
    assert not secret_path(Settings, ("vehicles", "zoe", "capacity_kwh"))
    assert not secret_path(Settings, ("web", "allowed_hosts", 0))
    assert secret_path(Settings, ("web", "token"))


def test_tracebacks_are_redacted_and_carry_no_variable_dump(capsys):
    LogConfig().apply(level="INFO")
    api_key = "evcc_0123456789"

    def failing() -> None:
        raise RuntimeError(f"login failed for http://me@evcc.local with password={api_key}")

    try:
        failing()
    except RuntimeError:
        logger.exception("evcc login")
    err = capsys.readouterr().err
    assert "evcc login\nTraceback (most recent call last):" in err
    assert "RuntimeError: login failed for http://me@evcc.local with password=***" in err
    assert api_key not in err  # neither in the message nor in a dump of `api_key`


def test_redaction_masks_values_not_the_asides_that_name_a_setting():
    assert redact("login with password hunter2, then http://me:pa55@evcc.local") == (
        "login with password ***, then http://me:***@evcc.local")
    assert redact("evcc refused the login with evcc.password (HTTP 401: wrong password?)") == (
        "evcc refused the login with evcc.password (HTTP 401: wrong password?)")


def test_a_log_record_masks_every_extra_field_a_settings_error_would_hide(capsys):
    """One list of secret names (settings/types.py) for settings errors and log fields."""
    LogConfig().apply(level="INFO", json_lines=True)
    logger.bind(pin="1234", bot_token="t0ps3cret", vehicle="zoe").info("hello")
    extra = json.loads(capsys.readouterr().out.splitlines()[-1])["record"]["extra"]
    assert extra == {"pin": "***", "bot_token": "***", "vehicle": "zoe"}
    assert secret_path(Settings, ("vehicles", "zoe", "provider", "kia", "pin"))
    assert secret_path(Settings, ("notify", "telegram", "bot_token"))
