"""The recorder: evcc polls as a JSON-lines recording (DESIGN §4), raw bodies unparsed."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import IO, Any

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
    t = json.dumps(iso(poll.at))
    if poll.error is not None:
        return json.dumps({"t": iso(poll.at), "error": poll.error.message, "kind": poll.error.kind})
    body = poll.body or b""
    try:
        text = body.decode("utf-8")
        if "\n" in text or "\r" in text:
            text = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
        else:
            json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        return json.dumps({"t": iso(poll.at), "error": f"not JSON: {exc}", "kind": "parse"})
    return f'{{"t":{t},"state":{text}}}'


class Recorder:
    """Appends polls to a recording; flushes every line so a crash loses at most one."""

    name = "recorder"

    def __init__(self, path: Path, poll_interval_s: float, started_at: datetime, **extra: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open_text(path, "w")
        self._file.write(json.dumps(header(poll_interval_s, started_at, **extra)) + "\n")
        self.lines = 0

    def on_poll(self, poll: RawPoll) -> None:
        self._file.write(line_for(poll) + "\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        self._file.close()
