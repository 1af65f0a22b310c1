"""Commands whose output goes into a pipe that its reader closes early end quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "tests" / "data" / "evcc" / "api-state_0.313_demo.json"


def run_into_closed_pipe(*argv: str) -> subprocess.CompletedProcess[str]:
    """The command with stdout a pipe whose reader has already gone, as under `| head`
    once head has its lines: the first write fails (EPIPE), whatever the output's size."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "smartload", *argv], cwd=ROOT, stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)


def test_inspect_into_a_closed_pipe_ends_without_a_traceback() -> None:
    done = run_into_closed_pipe("inspect", str(STATE))
    assert done.stderr == ""
    assert done.returncode == 141

