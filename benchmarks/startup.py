"""Start-up time of the command line and of the service (issue 19).

    python benchmarks/startup.py [--runs 10] [--no-bytecode]

Spawns, interleaved and --runs times each (after one untimed warm-up of each):
  baseline      python -c pass
  help          python -m smartload --help
  check-config  python -m smartload --settings <tmp>/settings.yaml check-config
  first poll    python -m smartload --settings <tmp>/settings.yaml run, timed from the spawn to
                the first GET /api/state at a loopback evcc stand-in in this process (it
                answers evcc 0.313's demo state from tests/data), then stopped with SIGTERM
The settings file, written to a temporary directory, points at the stand-in, with two cars
on evcc's SoC, a fresh data directory and the dashboard on a free port. Each command is
timed as a whole process (spawn to exit), so the interpreter's own start is in every figure;
the baseline shows how much. Printed: median and p95 per command, the median's ratio to the
baseline, the median CPU time (user + system; for `run`, what it had used at its first poll,
from /proc), the load average (a busy machine slows every wall time), and whether each
target (median wall time <= 0.3 s for help and check-config, <= 0.5 s to the first poll) is
met or MISSED. Nothing is cached: every figure is measured in this run.

Bytecode: the warm-up writes every module's .pyc to a temporary PYTHONPYCACHEPREFIX, even
where PYTHONDONTWRITEBYTECODE is set (as in some sandboxes and Dockerfiles), because an
installed smartload has its .pyc (pip compiles it at install). --no-bytecode measures the
other extreme: an empty PYTHONPYCACHEPREFIX that nothing is written to, so every module,
the dependencies' too, is compiled at every start.
"""

from __future__ import annotations

import argparse
import http.server
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / "tests" / "data" / "evcc" / "api-state_0.313_demo.json"
CLI_TARGET_S = 0.3
FIRST_POLL_TARGET_S = 0.5
FIRST_POLL_TIMEOUT_S = 60.0

SETTINGS = """\
evcc:
  url: {url}
  poll_interval: 10s
site:
  timezone: Europe/Berlin
vehicles:
  car1:
    evcc_name: vehicle_1
    capacity_kwh: 52
  car2:
    evcc_name: vehicle_2
    capacity_kwh: 77
data_dir: {data_dir}
web:
  port: 0
"""


class StandIn:
    """A loopback evcc: GET /api/state answers the demo state, writes answer 200, the
    rest 404. Notes the time (perf_counter) of the first /api/state since `expect`."""

    def __init__(self) -> None:
        body = STATE.read_bytes()
        stand_in = self
        self.first_poll: float | None = None
        self.first_poll_cpu: float | None = None  # CPU seconds the service had used by then
        self.pid: int | None = None
        self.polled = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/api/state":
                    if not stand_in.polled.is_set():
                        stand_in.first_poll = time.perf_counter()
                        stand_in.first_poll_cpu = cpu_seconds(stand_in.pid)
                        stand_in.polled.set()
                    self._answer(200, body)
                else:
                    self._answer(404, b'{"error": "not found"}')

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer(200, b'{"result": null}')

            do_DELETE = do_POST

            def _answer(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def expect(self) -> None:
        self.first_poll = None
        self.polled.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds process `pid` has used so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def environment(pycache: Path, write: bool = True) -> dict[str, str]:
    """This environment without SMARTLOAD_* overrides, importing this checkout's smartload,
    its bytecode under pycache (PYTHONPYCACHEPREFIX, where Python then looks instead of the
    __pycache__ folders). write: the warm-up writes it there, as pip compiles it at install,
    whatever PYTHONDONTWRITEBYTECODE says here; else nothing is written to the empty
    folder, so every module, the dependencies' too, is compiled at every start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTLOAD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if write:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def timed(argv: list[str], cwd: Path, env: dict[str, str], cpu: list[float]) -> float:
    """Seconds from spawn to exit (the CPU seconds it used, user + system, go to `cpu`);
    the command must succeed."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} exited {process.returncode}:\n{err.read().decode(errors='replace')}")
    cpu.append(usage.ru_utime + usage.ru_stime)
    return elapsed


def first_poll(argv: list[str], cwd: Path, env: dict[str, str], stand_in: StandIn, log: Path,
               cpu: list[float]) -> float:
    """Seconds from spawning the service to its first GET /api/state (the CPU seconds it
    had used by then go to `cpu`); then stops it."""
    stand_in.expect()
    with log.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        stand_in.pid = process.pid
        try:
            polled = stand_in.polled.wait(FIRST_POLL_TIMEOUT_S)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    if not polled or stand_in.first_poll is None:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"no GET /api/state within {FIRST_POLL_TIMEOUT_S:g} s; the service said:\n{tail}")
    if stand_in.first_poll_cpu is not None:
        cpu.append(stand_in.first_poll_cpu)
    return stand_in.first_poll - start


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command (default 10)")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="compile every module, the dependencies' too, from source at every start")
    args = parser.parse_args()
    python = sys.executable
    stand_in = StandIn()
    with tempfile.TemporaryDirectory(prefix="smartload-startup-") as tmp:
        work = Path(tmp)
        env = environment(work / "pycache", write=not args.no_bytecode)
        settings = work / "settings.yaml"
        settings.write_text(SETTINGS.format(url=stand_in.url, data_dir=work / "data"), encoding="utf-8")
        log = work / "service.log"
        cpu: dict[str, list[float]] = {"baseline (python -c pass)": [], "--help": [], "check-config": [],
                                       "run: spawn to first poll": []}
        cases: dict[str, Callable[[], float]] = {
            "baseline (python -c pass)": lambda: timed([python, "-c", "pass"], work, env,
                                                       cpu["baseline (python -c pass)"]),
            "--help": lambda: timed([python, "-m", "smartload", "--help"], work, env, cpu["--help"]),
            "check-config": lambda: timed([python, "-m", "smartload", "--settings", str(settings), "check-config"],
                                          work, env, cpu["check-config"]),
            "run: spawn to first poll": lambda: first_poll(
                [python, "-m", "smartload", "--settings", str(settings), "run"], work, env, stand_in, log,
                cpu["run: spawn to first poll"]),
        }
        for case in cases.values():  # warm-up, untimed: .pyc files, the page cache, the database's creation
            case()
        for figures in cpu.values():
            figures.clear()
        load_before = os.getloadavg()[0]
        times: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for run in range(args.runs):
            for name in names[run % len(names):] + names[:run % len(names)]:  # interleaved, the order rotating
                times[name].append(cases[name]())
    stand_in.close()
    load_after = os.getloadavg()[0]

    baseline = statistics.median(times[names[0]])
    targets = {"--help": CLI_TARGET_S, "check-config": CLI_TARGET_S, "run: spawn to first poll": FIRST_POLL_TARGET_S}
    print(f"python {sys.version.split()[0]}, {args.runs} runs each, interleaved, after one warm-up; {ROOT}; "
          + ("no bytecode: every module compiled at every start" if args.no_bytecode
             else "bytecode written by the warm-up (as pip writes it at install)"))
    print(f"{os.cpu_count()} CPUs, load average {load_before:.2f} before the timed runs, {load_after:.2f} after "
          "(other work on the machine slows every figure, the baseline's too)")
    print(f"{'command':<28}{'median':>9}{'p95':>9}{'x baseline':>12}{'CPU s':>8}  target (median)")
    missed = 0
    for name in names:
        median = statistics.median(times[name])
        target = targets.get(name)
        verdict = ""
        if target is not None:
            met = median <= target
            missed += not met
            verdict = f"<= {target:g} s: {'met' if met else 'MISSED'}"
        used = f"{statistics.median(cpu[name]):.3f}" if cpu[name] else "-"
        print(f"{name:<28}{median:>8.3f}s{p95(times[name]):>8.3f}s{median / baseline:>11.1f}x{used:>8}  {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
