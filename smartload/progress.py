"""How far a long command has come, on stderr: a bar redrawn in place on a terminal, and
a line every few percent where stderr is a file or a pipe (a log keeps no carriage returns)."""

from __future__ import annotations

import sys
from typing import TextIO

BAR_WIDTH = 30


class Progress:
    """update(share done, note) as often as you like: it writes only when the whole
    percent shown changes (on a terminal) or passes the next step (elsewhere)."""

    def __init__(self, label: str, stream: TextIO | None = None, *, every_pct: int = 5) -> None:
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        self._every = every_pct
        self._shown = -1  # the percent last written
        self._width = 0  # of the bar's line, to blank a longer one it replaces

    def update(self, done: float, note: str = "") -> None:
        pct = int(min(max(done, 0.0), 1.0) * 100)
        if self._tty:
            if pct != self._shown:
                self._bar(pct, note)
        elif pct >= self._shown + self._every or (pct == 100 and self._shown < 100) or self._shown < 0:
            self._line(pct, note)

    def close(self) -> None:
        """Ends the bar's line on a terminal, so what is printed next starts on its own."""
        if self._tty and self._width:
            self._stream.write("\n")
            self._stream.flush()
            self._width = 0

    def _bar(self, pct: int, note: str) -> None:
        filled = BAR_WIDTH * pct // 100
        text = f"{self._label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {pct:3d}% {note}".rstrip()
        self._stream.write("\r" + text + " " * max(0, self._width - len(text)))
        self._stream.flush()
        self._width = len(text)
        self._shown = pct

    def _line(self, pct: int, note: str) -> None:
        # On the step's multiple, so the lines read 0, 5, 10 ... whatever the updates' grain.
        shown = pct if pct == 100 else pct - pct % self._every
        self._stream.write(f"{self._label}: {shown}% {note}".rstrip() + "\n")
        self._stream.flush()
        self._shown = shown
