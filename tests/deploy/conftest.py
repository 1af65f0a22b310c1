"""One install per test session of what the container image holds: deploy/container.sh
install into a fresh virtualenv, the very step the Dockerfile runs (and the systemd example
uses). It installs from PyPI's wheels, as the image build does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "container.sh"


@pytest.fixture(scope="session")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("image") / "opt-smartload"
    # No bytecode (pip --no-compile): a faster install here; the image compiles it (a faster cold start).
    env = clean_env(PYTHON=sys.executable, PIP_COMPILE="0")
    done = subprocess.run(["sh", str(SCRIPT), "install", str(where)], env=env,
                          cwd=where.parent, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return where


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh container: no SMARTLOAD_* and no virtualenv of the caller."""
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") or k.startswith("PIP_")}
    return {**keep, **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, headers: Mapping[str, str] | None = None, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}),
                                     method="POST" if data is not None else "GET")
    try:
        # Generous: on a loaded machine (CI, parallel suites) an answer can take seconds.
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Service:
    """A child process whose output goes to a file: a pipe nobody reads while it runs fills up
    (the service logs every decision) and stalls it mid-write."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str], cwd: Path | str) -> None:
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout_s: float = 60.0) -> int:
        return self.process.wait(timeout=timeout_s)

    def stop(self) -> int:
        """SIGTERM, as `docker stop` and `systemctl stop` send, and the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait()


def wait_healthy(service: Service, port: int, timeout_s: float = 60.0) -> float:
    """Seconds from now until /api/health answers 200; fails if the process ends first."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        assert service.process.poll() is None, f"exited with {service.process.returncode}: {service.output()[-2000:]}"
        try:
            if get(f"http://127.0.0.1:{port}/api/health")[0] == 200:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.1)
    service.process.kill()
    raise AssertionError(f"/api/health did not answer within {timeout_s} s: {service.output()[-2000:]}")
