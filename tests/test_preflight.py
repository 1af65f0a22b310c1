"""`run` and `check-config` judge settings alike: the shipped settings run against a real
evcc with only evcc.url changed (the simulator's fake clouds fall back to evcc's SoC, one
warning each), and what `run` cannot start with is one line per problem and exit 2, never
a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from loguru import logger

from smartload.__main__ import main
from smartload.settings import SettingsError, load_settings
from smartload.sim.scenario import SHIPPED
from smartload.vehicles import hyundai_kia
from smartload.vehicles.evcc import EvccProvider
from smartload.vehicles.http_json import HttpJsonProvider
from smartload.vehicles.registry import EvccSocBook, build_providers

ROOT = Path(__file__).resolve().parents[1]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the with block ends


def fallback(vehicle: str) -> str:
    return (f"vehicles.{vehicle}.provider.url: 'embedded:/cloud/{vehicle}/soc' exists only in the embedded simulator"
            f" and evcc.url is not 'embedded': {vehicle} takes evcc's SoC instead (provider type evcc)")


@pytest.fixture
def real_evcc(monkeypatch, tmp_path) -> str:
    """The shipped settings.yaml with evcc.url pointing at a real (here: closed) port."""
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SMARTLOAD_EVCC__URL", url)
    monkeypatch.setenv("SMARTLOAD_DATA_DIR", str(tmp_path / "data"))
    return url


def test_check_config_accepts_the_shipped_settings_for_a_real_evcc_with_one_warning_per_car(real_evcc, capsys):
    assert main(["check-config"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"settings.yaml: warning: {fallback('zoe')}",
                                         f"settings.yaml: warning: {fallback('ioniq')}"]
    assert captured.out.splitlines()[1:] == [f"settings.yaml: OK (evcc {real_evcc}, 2 vehicle(s))"]


def test_the_registry_gives_both_cars_evccs_soc_and_warns_once_each(real_evcc):
    settings = load_settings(Path("settings.yaml"))
    warnings: list[str] = []
    sink = logger.add(lambda m: warnings.append(m.record["message"]), level="WARNING")
    try:
        providers = build_providers(settings, EvccSocBook())
    finally:
        logger.remove(sink)
    assert set(providers) == {"zoe", "ioniq"}
    assert all(isinstance(p, EvccProvider) for p in providers.values())
    assert warnings == [fallback("zoe"), fallback("ioniq")]
    # With the simulator running, the same settings keep their fake clouds.
    embedded = build_providers(settings, EvccSocBook(), embedded_base_url="http://127.0.0.1:1")
    assert all(isinstance(p, HttpJsonProvider) for p in embedded.values())


def test_run_starts_against_a_real_evcc_with_the_shipped_settings(real_evcc, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "smartload", "run", "--duration", "1s"], cwd=ROOT, capture_output=True, text=True,
        timeout=60, env={**_env(), "SMARTLOAD_EVCC__URL": real_evcc, "SMARTLOAD_DATA_DIR": str(tmp_path / "d"),
                         "SMARTLOAD_WEB__ENABLED": "false"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warned = [line.split("WARNING ", 1)[1].strip() for line in result.stderr.splitlines() if "WARNING" in line
              and "provider.url" in line]
    assert warned == [fallback("zoe"), fallback("ioniq")]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SMARTLOAD_")}


def _settings_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\nweb: {{enabled: false}}\n{text}", encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "problem"), [
    ("sim: {scenario: nowhere}\n",
     f"sim.scenario: unknown scenario 'nowhere': use one of {', '.join(SHIPPED)} or a YAML path"),
    ("sim: {scenario: /nonexistent/site.yaml}\n", "sim.scenario: /nonexistent/site.yaml: file not found"),
    ("data_dir: {file}\n", "data_dir: {file} is not a directory"),
    ("sim: {prices_csv: {file}}\n", "sim.prices_csv: {file}: not a price table (Invalid isoformat string: 'x')"),
])
def test_run_and_check_config_reject_alike_in_one_line_with_exit_2(tmp_path, capsys, text, problem):
    file = tmp_path / "a-file"
    file.write_text("timestamp_utc,price_eur_per_mwh\nx,1\n")
    path = tmp_path / "settings.yaml"
    text = text.replace("{file}", str(file))
    path.write_text(text if text.startswith("data_dir") else f"data_dir: {tmp_path / 'data'}\n{text}")
    for command in ("check-config", "run"):
        assert main(["--settings", str(path), command]) == 2, command
        captured = capsys.readouterr()
        assert captured.err == f"{path}: {problem.format(file=file)}\n", command
        assert captured.out == ""


@pytest.mark.skipif(hyundai_kia.available(), reason="hyundai-kia-connect-api is installed here")
def test_a_provider_that_cannot_run_here_stops_run_with_one_line_not_a_traceback(tmp_path):
    path = _settings_file(tmp_path, "evcc: {url: 'http://127.0.0.1:9'}\nvehicles:\n"
                                    "  ev6: {capacity_kwh: 77, provider: {type: kia, username: me, password: pw}}\n")
    expected = (f"{path}: vehicles.ev6.provider.type: provider type 'kia' needs hyundai-kia-connect-api, which needs "
                "Python >= 3.12: pip install 'smartload-evcc[kia]'\n")
    for command in ("check-config", "run"):
        result = subprocess.run([sys.executable, "-m", "smartload", "--settings", str(path), command], cwd=ROOT,
                                capture_output=True, text=True, timeout=60, env=_env())
        assert (result.returncode, result.stderr, result.stdout) == (2, expected, ""), command


@pytest.mark.skipif(hyundai_kia.available(), reason="hyundai-kia-connect-api is installed here")
def test_build_providers_raises_a_settings_error_for_what_cannot_run(tmp_path):
    settings = load_settings(_settings_file(tmp_path, "vehicles:\n  ev6: {capacity_kwh: 77, provider: "
                                                      "{type: hyundai, username: me, password: pw}}\n"))
    with pytest.raises(SettingsError) as error:
        build_providers(settings, EvccSocBook())
    assert error.value.problems == ["vehicles.ev6.provider.type: provider type 'hyundai' needs "
                                    "hyundai-kia-connect-api, which needs Python >= 3.12: "
                                    "pip install 'smartload-evcc[kia]'"]
