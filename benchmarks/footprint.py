"""Footprint: the installed size of smartload's runtime and the service's steady RSS.

    python benchmarks/footprint.py [--minutes 120] [--speed 60] [--skip-size] [--skip-rss] [--fresh]

1. Install size (target <= 150 MB): a fresh venv (without pip: pip and setuptools are no
   part of the runtime) in a temporary folder, `pip install` of a copy of the repository
   into it (the runtime dependencies only, no extra), then the size of its site-packages
   and of each distribution in it (the files of its RECORD, .libs included), the largest
   first. The result is cached in the system's temp folder
   under a key of pyproject's [project] dependencies and the Python version, so a rerun
   with the same dependencies skips the install; --fresh measures again.
2. Steady RSS (target <= 100 MB): `python -m smartload --settings S run` with the shipped
   settings but a temporary data_dir, the dashboard on a free port of 127.0.0.1 and the
   embedded simulator at --speed (simulated seconds per wall-clock second). VmRSS is
   read from /proc every second; after --minutes simulated minutes the service is stopped
   (SIGTERM) and its last RSS (the steady value), its peak (VmHWM) and the RSS after the
   first simulated quarter-hour are printed, and the RSS by mapping (smaps at the end).
3. What dominates: a child process reads its own VmRSS, imports the service's libraries
   one after the other and prints what each adds (in that order: what a library shares
   with one before it, e.g. numpy, counts for the earlier one); then, each in a fresh
   process, the growth of importing a few of them alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE_TARGET_MB = 150.0
RSS_TARGET_MB = 100.0
# In the order the steps are taken: each step's growth is what it adds to those before it.
MODULES = ["asyncio", "ssl", "sqlite3", "numpy", "highspy", "pydantic",
           "yaml", "httpx", "starlette.applications", "uvicorn", "reactivex", "loguru", "prometheus_client",
           "aiomqtt", "renault_api.renault_client", "smartload.planner", "smartload.service"]
ALONE = ["numpy", "highspy", "uvicorn", "pydantic", "httpx", "smartload.service"]

_SIZES = """
import json, sys, importlib.metadata as md
from pathlib import Path
site = Path(sys.argv[1])
out = {}
for dist in md.distributions(path=[str(site)]):
    total = 0
    for f in dist.files or ():
        p = Path(dist.locate_file(f))
        if p.is_file():
            total += p.stat().st_size
    out[dist.metadata["Name"]] = total
print(json.dumps(out))
"""

_IMPORT_RSS = """
import sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
print("base", rss())
for name in sys.argv[1:]:
    before = rss()
    __import__(name)
    print(name, rss() - before)
"""


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def dependency_key() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    text = json.dumps({"deps": sorted(project["dependencies"]), "python": sys.version_info[:2]})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def measure_install() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="smartload-footprint-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        python = venv / "bin" / "python"
        # A copy of the project: setuptools builds in the source tree (build/, *.egg-info),
        # which would litter the repository and could ship stale files on the next run.
        source = Path(tmp) / "src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy2(ROOT / name, source / name)
        shutil.copytree(ROOT / "smartload", source / "smartload",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                               "--disable-pip-version-check", str(source)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"pip install {ROOT} failed:\n{done.stderr[-3000:]}")
        seconds = time.perf_counter() - t0
        site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   check=True, capture_output=True, text=True).stdout.strip())
        per_dist = json.loads(subprocess.run([str(python), "-c", _SIZES, str(site)], check=True,
                                             capture_output=True, text=True).stdout)
        return {"total": dir_size(site), "dists": per_dist, "install_s": seconds}


def install_size(fresh: bool, top: int) -> None:
    cache = Path(tempfile.gettempdir()) / f"smartload-footprint-{dependency_key()}.json"
    if cache.exists() and not fresh:
        result = json.loads(cache.read_text())
        origin = f"cached in {cache} (same pyproject dependencies; --fresh measures again)"
    else:
        result = measure_install()
        cache.write_text(json.dumps(result))
        origin = f"measured now (pip install took {result['install_s']:.0f} s)"
    total = result["total"] / 1e6
    print(f"runtime install size: {total:.1f} MB in site-packages "
          f"(target <= {SIZE_TARGET_MB:.0f} MB: {verdict(total, SIZE_TARGET_MB)}); {origin}")
    dists = sorted(result["dists"].items(), key=lambda kv: -kv[1])
    for name, size in dists[:top]:
        print(f"  {name:<24} {size / 1e6:7.1f} MB")
    rest = sum(size for _, size in dists[top:]) / 1e6
    print(f"  {'(' + str(len(dists) - top) + ' others)':<24} {rest:7.1f} MB")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_mb(pid: int, key: str) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def smaps_rss(pid: int) -> dict[str, float]:
    """The process's RSS in MB by what is mapped: a library's package in site-packages
    (its code and its .libs), another file, or anonymous memory (the Python heap, arrays)."""
    groups: dict[str, float] = {}
    name = "?"
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                fields = line.split()
                if not fields:
                    continue
                if "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
                    path = fields[5] if len(fields) >= 6 else ""
                    if "site-packages/" in path:
                        name = path.split("site-packages/")[1].split("/")[0].removesuffix(".libs")
                        name = name.split(".cpython")[0].split("-")[0]
                    elif path.startswith("/"):
                        name = "python" if "python" in Path(path).name or "/lib/python" in path else Path(path).name
                    else:
                        name = path or "[anonymous]"
                elif fields[0] == "Rss:":
                    groups[name] = groups.get(name, 0.0) + int(fields[1]) / 1024
    except OSError:
        return {}
    return groups


def service_rss(minutes: float, speed: float) -> None:
    with tempfile.TemporaryDirectory(prefix="smartload-rss-") as tmp:
        settings = Path(tmp) / "settings.yaml"
        text = (ROOT / "settings.yaml").read_text(encoding="utf-8")
        text += (f"\n# footprint.py\ndata_dir: {tmp}\n")
        settings.write_text(text, encoding="utf-8")
        env = {**os.environ, "SMARTLOAD_WEB__PORT": str(free_port()), "SMARTLOAD_SIM__SPEED": str(speed),
               "SMARTLOAD_DATA_DIR": tmp}
        wall = minutes * 60 / speed
        child = subprocess.Popen([sys.executable, "-m", "smartload", "--settings", str(settings), "run"],
                                 cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        samples: list[tuple[float, float]] = []
        started = time.monotonic()
        try:
            while (elapsed := time.monotonic() - started) < wall and child.poll() is None:
                rss = status_mb(child.pid, "VmRSS")
                if rss is not None:
                    samples.append((elapsed * speed / 60, rss))
                time.sleep(1.0)
            peak = status_mb(child.pid, "VmHWM")
            mapped = smaps_rss(child.pid)
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                _, err = child.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                _, err = child.communicate()
        if not samples or elapsed < wall:
            print(f"the service stopped after {elapsed:.0f} s (code {child.returncode}):\n{err[-2000:]}")
            return
        plans = err.count("plan ")
        quarter = next((rss for minute, rss in samples if minute >= 15), samples[-1][1])
        steady = samples[-1][1]
        print(f"service RSS after {minutes:.0f} simulated minutes (speed {speed:g}, {wall:.0f} s wall, "
              f"{plans} log lines with 'plan '): {steady:.1f} MB "
              f"(target <= {RSS_TARGET_MB:.0f} MB: {verdict(steady, RSS_TARGET_MB)}); "
              f"peak {peak or float('nan'):.1f} MB, {quarter:.1f} MB after 15 simulated minutes")
        print("  its RSS by mapping (/proc/PID/smaps at the end; a package's code and .libs together):")
        for name, mb in sorted(mapped.items(), key=lambda kv: -kv[1])[:12]:
            print(f"  {name:<28} {mb:7.1f} MB")


def _imports(modules: list[str]) -> list[tuple[str, float]]:
    done = subprocess.run([sys.executable, "-c", _IMPORT_RSS, *modules], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  importing {modules} failed: {done.stderr.strip().splitlines()[-1:]}")
    return [(name, float(value)) for name, value in (line.split() for line in done.stdout.splitlines())]


def import_rss() -> None:
    print("RSS of the service's imports, step by step in one fresh interpreter (each row: what it adds):")
    rows = _imports(MODULES)
    for module, growth in rows:
        print(f"  {'(bare interpreter)' if module == 'base' else module:<28} {growth:+7.1f} MB")
    print(f"  {'(all imports)':<28} {sum(g for _, g in rows):7.1f} MB")
    print("RSS growth of importing each alone in a fresh interpreter (what it pulls in counted too):")
    for module in ALONE:
        rows = _imports([module])
        if len(rows) < 2:
            print(f"  {module:<28} not importable here")
            continue
        (_, base), (_, growth) = rows
        print(f"  {module:<28} {growth:+7.1f} MB (on {base:.1f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=120.0, help="simulated minutes before RSS is read")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per wall-clock second")
    parser.add_argument("--top", type=int, default=10, help="distributions listed by size")
    parser.add_argument("--fresh", action="store_true", help="measure the install size even if cached")
    parser.add_argument("--skip-size", action="store_true")
    parser.add_argument("--skip-rss", action="store_true")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.skip_size:
        install_size(args.fresh, args.top)
    if not args.skip_rss:
        service_rss(args.minutes, args.speed)
        import_rss()
    return 0


if __name__ == "__main__":
    sys.exit(main())
