"""The command line, settings validation and logging, as a user meets them."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from loguru import logger

from smartload.__main__ import main
from smartload.logsetup import LogConfig, redact
from smartload.service import run_service
from smartload.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "evcc" / "api-state_0.207.5_demo.json"


def test_shipped_settings_are_valid(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["check-config"]) == 0
    assert capsys.readouterr().out == (f"settings: {ROOT / 'settings.yaml'} (found in the working directory); "
                                       f"data directory: {ROOT / 'data'}\n"
                                       "settings.yaml: OK (evcc embedded, 2 vehicle(s))\n")


def test_check_config_prints_one_line_per_problem_with_its_key_path_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "evcc:\n  url: evcc.local\n  poll_interval: 10 minutes\n"
        "vehicles:\n  zoe:\n    capacity_kwh: -3\n    provider: {type: tesla}\n"
        "  ioniq:\n    capacity_kwh: 77\n    provider: {type: renault, username: me@example.com}\n"
        "typo: 1\n"
    )
    assert main(["--settings", str(bad), "check-config"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"{bad}: evcc.url: must be 'embedded' or an http(s):// URL such as http://evcc.local:7070 (got 'evcc.local')",
        f"{bad}: evcc.poll_interval: Input should be a valid timedelta, invalid character in hour (got '10 minutes')",
        f"{bad}: vehicles.zoe.capacity_kwh: Input should be greater than 0 (got -3)",
        f"{bad}: vehicles.zoe.provider: Input tag 'tesla' found using 'type' does not match any of the expected tags:"
        " 'evcc', 'fake', 'renault', 'kia', 'hyundai', 'http_json', 'mqtt', 'manual'",
        f"{bad}: vehicles.ioniq.provider.renault.password: Field required",
        f"{bad}: typo: Extra inputs are not permitted",  # an unknown key's value is never shown
    ]


def test_yaml_syntax_errors_and_missing_files_are_one_line(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("evcc:\n  url: [\n")
    assert main(["--settings", str(broken), "check-config"]) == 2
    assert capsys.readouterr().err.startswith(f"{broken}: line 3: not valid YAML")
    assert main(["--settings", str(tmp_path / "none.yaml"), "check-config"]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'none.yaml'}: file not found\n"


def test_environment_overrides_nested_keys(tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text("evcc:\n  url: http://evcc.local:7070\nvehicles:\n  zoe: {capacity_kwh: 52}\n")
    monkeypatch.setenv("SMARTLOAD_EVCC__POLL_INTERVAL", "30s")
    monkeypatch.setenv("SMARTLOAD_VEHICLES__ZOE__TARGET_SOC_PCT", "90")
    settings = load_settings(path)
    assert settings.evcc.url == "http://evcc.local:7070"
    assert settings.evcc.poll_interval.total_seconds() == 30
    assert settings.vehicles["zoe"].target_soc_pct == 90
    monkeypatch.setenv("SMARTLOAD_TICK__PERIOD", "7m")
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    # Labelled with the variable, not the file: the value came from the environment.
    assert error.value.problems == ["env SMARTLOAD_TICK__PERIOD: tick.period: must divide an hour (e.g. 5m, 15m) so "
                                    "ticks sit on the wall clock (got '7m')"]


def test_inspect_prints_the_normalised_view(capsys):
    assert main(["inspect", str(FIXTURE)]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["loadpoints"][0]["vehicle"] == "vehicle_1"
    assert view["loadpoints"][0]["soc_pct"] == 48.3


def test_inspect_exits_2_with_one_line_on_a_file_that_is_not_an_evcc_state(tmp_path, capsys):
    other = tmp_path / "other.json"
    other.write_text('{"hello": "world"}')
    assert main(["inspect", str(other)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an evcc state" in err


def test_every_command_has_help():
    for command in ("run", "sim", "record", "replay", "inspect", "check-config"):
        result = subprocess.run([sys.executable, "-m", "smartload", command, "--help"], capture_output=True,
                                text=True, cwd=ROOT, timeout=60)
        assert result.returncode == 0 and "usage:" in result.stdout, command


def test_secrets_are_redacted_in_log_lines_and_json_logs(capsys):
    assert redact("login with password=hunter2 and api_key: abc") == "login with password=*** and api_key: ***"
    assert redact('{"token": "t0ps3cret"}') == '{"token": "***"}'
    assert redact("Authorization: Bearer evcc_abcdef") == "Authorization: *** ***"
    LogConfig().apply(level="INFO", json_lines=True)
    logger.bind(password="hunter2").info("calling with token=t0ps3cret")
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["record"]["message"] == "calling with token=***"
    assert line["record"]["extra"]["password"] == "***"
    assert "hunter2" not in json.dumps(line) and "t0ps3cret" not in json.dumps(line)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_an_unreachable_evcc_gives_one_line_per_outage_and_polling_backs_off(tmp_path):
    settings = load_settings(None).model_validate({
        "evcc": {"url": f"http://127.0.0.1:{free_port()}", "poll_interval": "0.05s", "outage_backoff_max": "0.2s"},
        "data_dir": str(tmp_path),
    })
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="DEBUG")
    attempts: list[object] = []

    async def count_polls(runtime, _stack, _first_poll) -> None:
        runtime.graph.errors.subscribe(attempts.append, scheduler=runtime.scheduler)

    try:
        stop = asyncio.Event()
        task = asyncio.create_task(run_service(settings, stop=stop, on_runtime=count_polls))
        deadline = asyncio.get_running_loop().time() + 20
        while len(attempts) < 8 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0
    finally:
        logger.remove(sink)
    assert len(attempts) >= 8
    unreachable = [line for line in lines if "unreachable" in line]
    assert len(unreachable) == 1 and unreachable[0].startswith(f"evcc at {settings.evcc.url} unreachable (connect:")
    assert not [line for line in lines if "Traceback" in line]
