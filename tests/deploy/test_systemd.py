"""The systemd example (deploy/smartload.service): systemd-analyze verifies it against the
installed command, and the command it names, with the environment it sets, serves the API
on fresh state and configuration directories and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.deploy.conftest import ROOT, Service, clean_env, free_port, get, wait_healthy

UNIT = ROOT / "deploy" / "smartload.service"
INSTALLED = "/opt/smartload"
TOKEN = "systemd-secret-token-0123"


def entries(text: str) -> dict[str, list[str]]:
    """The [Service] section's settings; a key set twice (Environment=) keeps both values."""
    section, found = "", {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


SERVICE = entries(UNIT.read_text())


def expand(value: str, specifiers: dict[str, str], env: dict[str, str] | None = None) -> str:
    for spec, path in specifiers.items():
        value = value.replace(spec, path)
    return re.sub(r"\$\{(\w+)\}", lambda m: (env or {})[m[1]], value)


def test_the_unit_is_hardened_and_restarts_on_failure():
    settings = {key: values[-1] for key, values in SERVICE.items()}
    assert settings["User"] == "smartload" and settings["Group"] == "smartload"
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "Restart": "on-failure", "RestartPreventExitStatus": "2",
                       "StateDirectory": "smartload", "ConfigurationDirectory": "smartload",
                       "CapabilityBoundingSet": ""}.items():
        assert settings[key] == value, key
    assert SERVICE["Environment"] == ["SMARTLOAD_SETTINGS=%E/smartload/settings.yaml",
                                      "SMARTLOAD_DATA_DIR=%S/smartload"]


def test_systemd_analyze_verifies_the_unit_on_the_install(prefix, tmp_path):
    unit = tmp_path / "smartload.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED, str(prefix)))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    # ... and fails on a command the install does not have, so the check above means something.
    (tmp_path / "broken.service").write_text(unit.read_text().replace("/bin/smartload ", "/bin/smartloadx "))
    broken = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "broken.service")],
                            capture_output=True, text=True, check=False)
    assert broken.returncode != 0 and "smartloadx is not executable" in broken.stderr


def test_the_installed_command_runs_as_the_unit_says(prefix, tmp_path):
    (command,) = SERVICE["ExecStart"]
    assert command.startswith(f"{INSTALLED}/bin/smartload ")
    specifiers = {"%E": str(tmp_path / "etc"), "%S": str(tmp_path / "var-lib")}
    # What the README's install steps and systemd do before the start.
    config = Path(expand("%E/smartload", specifiers))
    state = Path(expand("%S/smartload", specifiers))
    config.mkdir(parents=True)
    state.mkdir(parents=True, mode=0o700)
    shutil.copy(prefix / "share" / "smartload" / "settings.yaml", config / "settings.yaml")
    port = free_port()
    (config / "env").write_text(f"SMARTLOAD_WEB__TOKEN={TOKEN}\nSMARTLOAD_WEB__PORT={port}\n")
    env = clean_env()
    for assignment in SERVICE["Environment"]:
        key, _, value = expand(assignment, specifiers).partition("=")
        env[key] = value
    (env_file,) = SERVICE["EnvironmentFile"]
    for line in Path(expand(env_file.lstrip("-"), specifiers)).read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    argv = [expand(word, specifiers, env) for word in command.replace(INSTALLED, str(prefix)).split()]
    service = Service(argv, tmp_path / "journal.log", env, cwd=expand(SERVICE["WorkingDirectory"][0], specifiers))
    try:
        wait_healthy(service, port)
        status, _ = get(f"http://127.0.0.1:{port}/api/vehicles/ioniq/refresh", data=b"{}",
                        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        assert status == 202
    finally:
        code = service.stop()
    err = service.output()
    assert code == 0, err[-2000:]
    assert f"http://127.0.0.1:{port}" in err  # the project's default: not reachable from outside
    assert sorted(p.name for p in state.iterdir() if p.name.startswith("smartload.db"))[0] == "smartload.db"
    assert not (state / "web_token").exists() and not (config / "data").exists()
    assert os.stat(state / "smartload.db").st_mode & 0o077 == 0
