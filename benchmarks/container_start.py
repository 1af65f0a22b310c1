"""Cold start of the container's entrypoint: from the start to /api/health answering 200 (issue 20).

    python benchmarks/container_start.py [--runs 3] [--prefix DIR] [--image NAME]

Installs the project with deploy/container.sh (the image's install step, bytecode compiled as
in the image) into a fresh virtualenv (or uses --prefix, an earlier such install), then
--runs times each, interleaved:
  baseline   PREFIX/bin/python -c pass
  script     PREFIX/bin/smartload-container run on a fresh data folder (the shipped settings:
             the embedded simulator), timed from the spawn to the first 200 of /api/health,
             then stopped with SIGTERM
  image      with --image and a running Docker daemon: `docker run` of that image on a fresh
             volume (host network, the dashboard on a free port), timed to the first 200 of
             /api/health and to Docker's own "healthy" (health interval 1 s), then
             `docker stop`; the image's size is printed too
Printed: median per case, its ratio to the baseline, the load average (a busy machine slows
every wall time), and whether the target (median <= 15 s to healthy, a quarter of the
Dockerfile's start period) is met or MISSED.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 15.0
TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def wait(condition, what: str) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > TIMEOUT_S:
            raise SystemExit(f"{what}: not within {TIMEOUT_S:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - start


def env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG") or k.startswith("PIP_")}
    return {**keep, **extra}


def baseline(prefix: Path) -> float:
    start = time.monotonic()
    subprocess.run([str(prefix / "bin" / "python"), "-c", "pass"], check=True)
    return time.monotonic() - start


def script(prefix: Path, scratch: Path) -> float:
    data, port = Path(tempfile.mkdtemp(dir=scratch)), free_port()
    start = time.monotonic()
    process = subprocess.Popen([str(prefix / "bin" / "smartload-container"), "run"], cwd=data,
                               stderr=subprocess.DEVNULL,
                               env=env(SMARTLOAD_DATA_DIR=str(data), SMARTLOAD_WEB__PORT=str(port)))
    try:
        wait(lambda: healthy(port) or process.poll() is not None, "script run")
        if process.poll() is not None:
            raise SystemExit(f"script run exited with {process.returncode}")
        return time.monotonic() - start
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def image(name: str, run: int) -> tuple[float, float]:
    port, container = free_port(), f"smartload-bench-{os.getpid()}-{run}"
    start = time.monotonic()
    subprocess.run(["docker", "run", "-d", "--name", container, "--network", "host", "-v", f"{container}:/data",
                    "-e", f"SMARTLOAD_WEB__PORT={port}", "--health-interval=1s", name],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        answered = wait(lambda: healthy(port), "docker run")

        def docker_healthy() -> bool:
            status = subprocess.run(["docker", "inspect", "-f", "{{.State.Health.Status}}", container],
                                    capture_output=True, text=True, check=True).stdout.strip()
            return status == "healthy"

        wait(docker_healthy, "docker healthy")
        return answered, time.monotonic() - start
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", container], check=False, stdout=subprocess.DEVNULL)
        subprocess.run(["docker", "volume", "rm", container], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def verdict(median_s: float) -> str:
    return "met" if median_s <= TARGET_S else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prefix", type=Path, help="an install made by deploy/container.sh install")
    parser.add_argument("--image", help="a built image to time with docker run too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        prefix = args.prefix
        if prefix is None:
            prefix = scratch / "prefix"
            start = time.monotonic()
            subprocess.run(["sh", str(ROOT / "deploy" / "container.sh"), "install", str(prefix)],
                           check=True, cwd=scratch, env=env(PYTHON=sys.executable))
            print(f"install (deploy/container.sh install, a fresh virtualenv): {time.monotonic() - start:.1f} s")
        times: dict[str, list[float]] = {"baseline": [], "script": [], "image": [], "image healthy": []}
        for run in range(args.runs):
            times["baseline"].append(baseline(prefix))
            times["script"].append(script(prefix, scratch))
            if args.image:
                answered, docker_healthy = image(args.image, run)
                times["image"].append(answered)
                times["image healthy"].append(docker_healthy)
    base = statistics.median(times["baseline"])
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.runs} runs each")
    print(f"baseline python -c pass            {base:7.3f} s")
    labels = {"script": "script run -> /api/health 200", "image": "docker run -> /api/health 200",
              "image healthy": "docker run -> docker 'healthy'"}
    for case, label in labels.items():
        if times[case]:
            median = statistics.median(times[case])
            print(f"{label:34} {median:7.3f} s  ({median / base:.0f}x baseline; target <= {TARGET_S:.0f} s: "
                  f"{verdict(median)})")
    if args.image:
        size = subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", args.image],
                              capture_output=True, text=True, check=True).stdout.strip()
        print(f"image {args.image}: {int(size) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
