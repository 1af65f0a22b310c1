"""The recording format (DESIGN §4): raw bodies, error lines, and a live record -> replay."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smartload.domain import PollError, RawPoll
from smartload.recording.recorder import Recorder, line_for
from smartload.recording.replay import open_recording, replay_with_settings
from smartload.service import run_service
from smartload.settings import Settings
from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer
from tests.sim.helpers import local

T = datetime(2026, 3, 2, 17, 0, 5, tzinfo=UTC)


def test_lines_keep_the_raw_body_and_turn_failures_into_error_lines():
    assert line_for(RawPoll(T, body=b'{"loadpoints":[],"x":1.50}')) == (
        '{"t":"2026-03-02T17:00:05Z","state":{"loadpoints":[],"x":1.50}}')
    # A pretty-printed body must still be one line (a recording is JSON lines).
    assert line_for(RawPoll(T, body=b'{\n  "a": 1\n}')) == '{"t":"2026-03-02T17:00:05Z","state":{"a":1}}'
    assert json.loads(line_for(RawPoll(T, error=PollError(T, "connect", "refused")))) == {
        "t": "2026-03-02T17:00:05Z", "error": "refused", "kind": "connect"}
    assert json.loads(line_for(RawPoll(T, body=b"<html>502</html>"))) == {
        "t": "2026-03-02T17:00:05Z", "error": "not JSON: Expecting value: line 1 column 1 (char 0)", "kind": "parse"}


def test_the_recorder_writes_a_header_and_flushes_every_line(tmp_path):
    path = tmp_path / "r.jsonl.gz"
    recorder = Recorder(path, 10, T, evcc_url="http://evcc:7070")
    recorder.on_poll(RawPoll(T, body=b"{}"))
    recorder.close()
    with gzip.open(path, "rt") as handle:
        head, line = (json.loads(x) for x in handle)
    assert head == {"format": "smartload-recording", "version": 1, "poll_interval_s": 10,
                    "started_at": "2026-03-02T17:00:05Z", "evcc_url": "http://evcc:7070"}
    assert line == {"t": "2026-03-02T17:00:05Z", "state": {}}


async def test_record_against_the_simulator_then_replay_the_file(tmp_path):
    out = tmp_path / "live.jsonl"
    config = Settings.model_validate({"evcc": {"url": "embedded"}, "data_dir": str(tmp_path)})
    async with SimServer(SimSettings(speed=600, start=local("2024-07-15T06:00:00"))) as sim:
        started = sim.now()
        code = await run_service(config, record_to=out, duration=timedelta(seconds=1.5), pipeline=False, sim=sim)
        simulated = (sim.now() - started).total_seconds()
    assert code == 0
    lines = out.read_text().splitlines()
    head = json.loads(lines[0])
    assert head["format"] == "smartload-recording" and head["evcc_url"].startswith("http://127.0.0.1:")
    polls = [json.loads(line) for line in lines[1:]]
    assert len(polls) >= 10 and all("state" in p for p in polls)
    assert polls[0]["state"]["version"] == "0.315.0"
    times = [datetime.fromisoformat(p["t"]) for p in polls]
    assert times == sorted(times) and (times[-1] - times[0]).total_seconds() <= simulated
    report = replay_with_settings(open_recording(out), config, explicit_settings=True)
    assert report["polls"] == len(polls) and report["errors"] == []


def closed_loopback_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_record_against_an_unreachable_evcc_warns_and_exits_non_zero(tmp_path):
    port = closed_loopback_port()
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"evcc:\n  url: http://127.0.0.1:{port}\n  poll_interval: 1s\n  request_timeout: 1s\n"
                        f"data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    out = tmp_path / "r.jsonl"
    done = subprocess.run([sys.executable, "-m", "smartload", "--settings", str(settings), "record", "--out", str(out),
                           "--duration", "2s"], cwd=Path(__file__).resolve().parent.parent, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    logged = done.stdout + done.stderr
    assert "WARNING no evcc state recorded yet: GET /api/state:" in logged
    assert f"WARNING recorded no evcc state from http://127.0.0.1:{port} in " in logged
    assert "is evcc running there?" in logged
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["evcc_url"] == f"http://127.0.0.1:{port}"
    assert len(lines) >= 2 and all(line["kind"] == "connect" and "state" not in line for line in lines[1:])
