"""Where the settings are read from, and what run and check-config say about it: the lookup
order, --settings on either side of the command, no file at all, no vehicles, the add-on's
options, and errors labelled with the environment variable they came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartload.__main__ import NO_VEHICLES, main
from smartload.settings import SettingsError, load_settings
from smartload.settings.discovery import SettingsSource, find_settings
from smartload.settings.load import env_origin

ROOT = Path(__file__).resolve().parents[1]
REAL_EVCC = "evcc: {url: 'http://127.0.0.1:9'}\n"
ONE_CAR = "vehicles:\n  zoe: {capacity_kwh: 52}\n"


@pytest.fixture
def places(tmp_path, monkeypatch):
    """An empty working directory and home, no SMARTLOAD_* or XDG variable, and the
    add-on's options file pointed into the temporary directory."""
    for name in list(os.environ):
        if name.startswith("SMARTLOAD_") or name in ("XDG_CONFIG_HOME", "SUPERVISOR_TOKEN"):
            monkeypatch.delenv(name)
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SMARTLOAD_ADDON_OPTIONS", str(tmp_path / "addon" / "options.json"))
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_lookup_order_takes_the_first_that_exists(places, monkeypatch):
    home = places / "home"
    options = write(places / "addon" / "options.json", "{}")
    assert find_settings(None) == SettingsSource(options, "the Home Assistant add-on's options", addon=True)
    user = write(home / ".config" / "smartload" / "settings.yaml", "")
    assert find_settings(None) == SettingsSource(user, "found in the user's config directory")
    xdg = write(places / "xdg" / "smartload" / "settings.yaml", "")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(places / "xdg"))
    assert find_settings(None) == SettingsSource(xdg, "found in the user's config directory")
    write(places / "work" / "settings.yaml", "")
    assert find_settings(None) == SettingsSource(Path("settings.yaml"), "found in the working directory")
    monkeypatch.setenv("SMARTLOAD_SETTINGS", "named.yaml")  # used even though it does not exist
    assert find_settings(None) == SettingsSource(Path("named.yaml"), "named by SMARTLOAD_SETTINGS")
    assert find_settings("given.yaml") == SettingsSource(Path("given.yaml"), "given with --settings")


def test_nothing_found_is_none_and_run_says_where_it_looked_and_what_to_do(places, capsys):
    assert find_settings(None) is None
    for command in ("run", "check-config"):
        assert main([command]) == 2
        user = places / "home" / ".config" / "smartload" / "settings.yaml"
        assert capsys.readouterr().err.splitlines() == [
            "no settings file found; looked for --settings FILE, $SMARTLOAD_SETTINGS, ./settings.yaml, "
            f"{user} and {places / 'addon' / 'options.json'}",
            "copy settings.yaml from smartload's source (set evcc.url and your cars under vehicles:) to "
            f"{user} or the working directory, or pass --settings FILE; then `smartload check-config` checks it",
        ]


def test_settings_before_or_after_the_command(places, capsys):
    path = write(places / "s.yaml", f"data_dir: {places / 'data'}\n{ONE_CAR}")
    for argv in (["--settings", str(path), "check-config"], ["check-config", "--settings", str(path)]):
        assert main(argv) == 0
        assert capsys.readouterr().out == (f"settings: {path} (given with --settings); data directory: "
                                           f"{places / 'data'}\n{path}: OK (evcc embedded, 1 vehicle(s))\n")
    # After the command it wins over one before it, as the later option does.
    assert main(["--settings", "nowhere.yaml", "check-config", "--settings", str(path)]) == 0
    assert main(["check-config", "--settings", "nowhere.yaml"]) == 2
    assert capsys.readouterr().err == "nowhere.yaml: file not found\n"


def test_check_config_says_which_file_was_found_how_and_where_the_data_is(places, capsys):
    user = write(places / "home" / ".config" / "smartload" / "settings.yaml", ONE_CAR)
    assert main(["check-config"]) == 0
    assert capsys.readouterr().out == (f"settings: {user} (found in the user's config directory); data directory: "
                                       f"{places / 'work' / 'data'}\n{user}: OK (evcc embedded, 1 vehicle(s))\n")


def test_the_first_log_line_of_run_names_the_settings_and_the_data_directory(places):
    # A real start, in a fresh interpreter, from a working directory outside the checkout.
    write(places / "work" / "settings.yaml", f"{ONE_CAR}web: {{enabled: false}}\nsim: {{speed: 600}}\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "smartload", "run", "--duration", "1s"], cwd=places / "work",
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.split(" INFO ", 1)[1].strip() == (
        f"settings: {places / 'work' / 'settings.yaml'} (found in the working directory); "
        f"data directory: {places / 'work' / 'data'}")


def test_no_vehicles_refuses_a_real_evcc_and_warns_with_the_simulator(places, capsys):
    path = write(places / "s.yaml", f"data_dir: {places / 'data'}\n{REAL_EVCC}")
    for command in ("check-config", "run"):
        assert main(["--settings", str(path), command]) == 2
        assert capsys.readouterr().err == f"{path}: {NO_VEHICLES}\n"
    assert not (places / "data").exists()  # refused before anything was written, evcc never asked
    demo = write(places / "demo.yaml", f"data_dir: {places / 'data'}\n")
    assert main(["--settings", str(demo), "check-config"]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"{demo}: warning: {NO_VEHICLES}\n"
    assert captured.out.endswith(f"{demo}: OK (evcc embedded, 0 vehicle(s))\n")
    assert NO_VEHICLES.startswith("vehicles: none configured, so there is no car to plan; add each car under "
                                  "vehicles: in the settings")


def test_the_checkout_runs_out_of_the_box(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    for name in list(os.environ):
        if name.startswith("SMARTLOAD_"):
            monkeypatch.delenv(name)
    assert main(["check-config"]) == 0
    assert capsys.readouterr().out.endswith("settings.yaml: OK (evcc embedded, 2 vehicle(s))\n")


def test_the_add_on_options_are_found_last_and_read_through_the_mapping(places, monkeypatch, capsys):
    options = {"evcc_url": "http://127.0.0.1:9", "log_level": "debug",
               "cars": [{"name": "zoe", "capacity_kwh": 52.0, "provider": "evcc"}]}
    path = write(places / "addon" / "options.json", json.dumps(options))
    monkeypatch.setenv("SMARTLOAD_DATA_DIR", str(places / "data"))  # the add-on's own is /data
    monkeypatch.setenv("TZ", "Europe/Vienna")
    assert main(["check-config"]) == 0
    assert capsys.readouterr().out == (
        f"settings: {path} (the Home Assistant add-on's options); data directory: {places / 'data'}\n"
        f"{path}: OK (evcc http://127.0.0.1:9, 1 vehicle(s))\n")
    from smartload.addon.load import load_addon_settings

    settings = load_addon_settings(path, "Europe/Vienna")
    assert (settings.site.timezone, settings.logging.level, settings.web.host, settings.web.trusted_proxies) == (
        "Europe/Vienna", "DEBUG", "0.0.0.0", ["172.30.32.2"])


def test_add_on_errors_name_the_option(places, capsys):
    path = write(places / "addon" / "options.json", json.dumps({
        "evcc_url": "evcc.local", "cars": [{"name": "zoe", "capacity_kwh": 0}, {"name": "ev6", "provider": "kia"}]}))
    assert main(["check-config"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: cars[1].capacity_kwh: required (the usable battery capacity in kWh)",
        f"{path}: cars[1].username: required for provider kia",
        f"{path}: cars[1].password: required for provider kia",
    ]
    write(path, json.dumps({"evcc_url": "evcc.local", "web_token": "short", "cars": [{"name": "zoe",
                                                                                     "capacity_kwh": 0}]}))
    assert main(["check-config"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: evcc_url: must be 'embedded' or an http(s):// URL such as http://evcc.local:7070 "
        "(got 'evcc.local')",
        f"{path}: cars[0].capacity_kwh: Input should be greater than 0 (got 0)",
        f"{path}: web_token: must be at least 16 characters",  # never the token itself
    ]
    write(path, "{not json")
    assert main(["check-config"]) == 2
    assert capsys.readouterr().err.startswith(f"{path}: not readable as JSON (Expecting property name")


def test_errors_from_the_environment_are_labelled_with_the_variable(places, monkeypatch):
    path = write(places / "s.yaml", f"{REAL_EVCC}{ONE_CAR}")
    monkeypatch.setenv("SMARTLOAD_EVCC__URL", "evcc.local")
    monkeypatch.setenv("SMARTLOAD_VEHICLES__GOLF__TITLE", "VW Golf")  # a car the file does not have
    monkeypatch.setenv("SMARTLOAD_VEHICLES__ZOE__CAPACITY_KWH", "lots")
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    assert error.value.problems == [
        "env SMARTLOAD_EVCC__URL: evcc.url: must be 'embedded' or an http(s):// URL such as http://evcc.local:7070 "
        "(got 'evcc.local')",
        "env SMARTLOAD_VEHICLES__ZOE__CAPACITY_KWH: vehicles.zoe.capacity_kwh: Input should be a valid number, "
        "unable to parse string as a number (got 'lots')",
        "env SMARTLOAD_VEHICLES__GOLF__TITLE: vehicles.golf.capacity_kwh: Field required",
    ]
    # The file's own mistakes keep the file's name, beside the environment's.
    monkeypatch.delenv("SMARTLOAD_VEHICLES__GOLF__TITLE")
    monkeypatch.delenv("SMARTLOAD_VEHICLES__ZOE__CAPACITY_KWH")
    write(path, f"{REAL_EVCC}vehicles:\n  zoe: {{capacity_kwh: -1}}\n")
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    assert [line.split(": ", 2)[:2] for line in error.value.problems] == [
        ["env SMARTLOAD_EVCC__URL", "evcc.url"], [str(path), "vehicles.zoe.capacity_kwh"]]


def test_a_preflight_problem_from_the_environment_names_the_variable(places, monkeypatch, capsys):
    path = write(places / "s.yaml", f"{REAL_EVCC}{ONE_CAR}")
    not_a_dir = write(places / "file", "")
    monkeypatch.setenv("SMARTLOAD_DATA_DIR", str(not_a_dir))
    assert main(["--settings", str(path), "check-config"]) == 2
    assert capsys.readouterr().err == f"env SMARTLOAD_DATA_DIR: data_dir: {not_a_dir} is not a directory\n"


GOLF = {"SMARTLOAD_VEHICLES__GOLF__TITLE": "x"}


@pytest.mark.parametrize(("loc", "file_data", "environ", "missing", "origin"), [
    (("evcc", "url"), {}, {"SMARTLOAD_EVCC__URL": "x"}, False, "SMARTLOAD_EVCC__URL"),
    (("evcc", "url"), {}, {"smartload_evcc__url": "x"}, False, "smartload_evcc__url"),  # names: any case
    (("evcc", "url"), {}, {"SMARTLOAD_EVCC": "{}"}, False, "SMARTLOAD_EVCC"),  # a whole section as JSON
    (("evcc", "url"), {}, {"SMARTLOAD_EVCC__PASSWORD": "x"}, False, None),  # a sibling is no origin
    (("vehicles", "zoe", "provider", "http_json", "passwrod"), {},
     {"SMARTLOAD_VEHICLES__ZOE__PROVIDER__PASSWROD": "x"}, False, "SMARTLOAD_VEHICLES__ZOE__PROVIDER__PASSWROD"),
    (("vehicles", "golf", "capacity_kwh"), {"vehicles": {}}, GOLF, True, "SMARTLOAD_VEHICLES__GOLF__TITLE"),
    # golf is in the file: its missing capacity is the file's.
    (("vehicles", "golf", "capacity_kwh"), {"vehicles": {"golf": {}}}, GOLF, True, None),
    (("tick", "period"), {}, {}, False, None),
])
def test_env_origin(loc, file_data, environ, missing, origin):
    assert env_origin(loc, file_data, environ, missing=missing) == origin


def test_a_secret_in_a_file_is_read_as_the_container_entrypoint_reads_it(places, capsys, monkeypatch):
    # compose.yaml gives the dashboard token as SMARTLOAD_WEB__TOKEN_FILE: `docker exec
    # smartload smartload check-config` runs without the entrypoint and reads it too.
    path = write(places / "s.yaml", f"data_dir: {places / 'data'}\n{ONE_CAR}")
    secret = write(places / "run" / "secrets" / "token", "a-token-from-a-docker-secret\n")
    monkeypatch.setenv("SMARTLOAD_WEB__TOKEN_FILE", str(secret))
    monkeypatch.setenv("SMARTLOAD_WEB__TOKEN", "replaced-by-the-file")  # so the test's end unsets it
    assert main(["check-config", "--settings", str(path)]) == 0
    assert os.environ["SMARTLOAD_WEB__TOKEN"] == "a-token-from-a-docker-secret"
    assert "SMARTLOAD_WEB__TOKEN_FILE" not in os.environ
    assert "a-token-from" not in capsys.readouterr().out
    monkeypatch.setenv("SMARTLOAD_EVCC__PASSWORD_FILE", str(places / "missing"))
    write(places / "empty", "")
    monkeypatch.setenv("SMARTLOAD_MQTT__PASSWORD_FILE", str(places / "empty"))
    assert main(["check-config", "--settings", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"env SMARTLOAD_EVCC__PASSWORD_FILE: {places / 'missing'} is not readable (No such file or directory)\n"
        f"env SMARTLOAD_MQTT__PASSWORD_FILE: {places / 'empty'} is empty\n")
