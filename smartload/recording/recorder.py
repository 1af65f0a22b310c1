"""The recorder: evcc polls as a JSON-lines recording (DESIGN §4), raw bodies unparsed."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from loguru import logger

from smartload.domain import RawPoll
from smartload.timefmt import iso

FORMAT = "smartload-recording"
VERSION = 1


def open_text(path: Path, mode: str) -> IO[str]:
    """Open a recording, gzip-compressed when the name ends in .gz."""
    if path.suffix == ".gz":
        # typeshed gives gzip.open a text stream only for a literal "rt"/"wt"/...; this mode is built.
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8")


def header(poll_interval_s: float, started_at: datetime, **extra: Any) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "poll_interval_s": poll_interval_s,
            "started_at": iso(started_at), **extra}


def line_for(poll: RawPoll) -> str:
    """One recording line. A body is embedded verbatim when it is one line of JSON; a body
    that is not JSON is kept as an error line so replay meets the same failure."""
    return _line(poll)[0]


def _line(poll: RawPoll) -> tuple[str, bool]:
    """The line, and whether it holds a state (else a failed poll)."""
    t = json.dumps(iso(poll.at))
    if poll.error is not None:
        return json.dumps({"t": iso(poll.at), "error": poll.error.message, "kind": poll.error.kind}), False
    body = poll.body or b""
    try:
        text = body.decode("utf-8")
        if "\n" in text or "\r" in text:
            text = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
        else:
            json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        return json.dumps({"t": iso(poll.at), "error": f"not JSON: {exc}", "kind": "parse"}), False
    return f'{{"t":{t},"state":{text}}}', True


class Recorder:
    """Appends polls to a recording; flushes every line so a crash loses at most one."""

    name = "recorder"

    def __init__(self, path: Path, poll_interval_s: float, started_at: datetime, **extra: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open_text(path, "w")
        self._file.write(json.dumps(header(poll_interval_s, started_at, **extra)) + "\n")
        self.lines = 0
        self.states = 0
        # The first failed poll's reason while no state has come: what a user must fix.
        self.first_error: str | None = None

    def on_poll(self, poll: RawPoll) -> None:
        line, is_state = _line(poll)
        self._file.write(line + "\n")
        self._file.flush()
        self.lines += 1
        if is_state:
            self.states += 1
        elif self.states == 0 and self.first_error is None:
            self.first_error = poll.error.message if poll.error is not None else json.loads(line)["error"]
            logger.warning("no evcc state recorded yet: {} (recording goes on)", self.first_error)

    def close(self) -> None:
        self._file.close()
