"""Progress on stderr: a bar redrawn in place on a terminal, a line every few percent elsewhere."""

from __future__ import annotations

import io

from smartload.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_elsewhere_a_line_every_five_percent_on_the_step() -> None:
    out = io.StringIO()
    progress = Progress("simulate", out)
    for n in range(1001):
        progress.update(n / 1000, f"n={n}")
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 21
    assert lines[:3] == ["simulate: 0% n=0", "simulate: 5% n=50", "simulate: 10% n=100"]
    assert lines[-1] == "simulate: 100% n=1000"
    assert "\r" not in out.getvalue()


def test_a_jump_is_one_line_at_the_step_below_and_the_end_is_always_shown() -> None:
    out = io.StringIO()
    progress = Progress("replay", out, every_pct=10)
    for done in (0.0, 0.37, 0.38, 0.999, 1.0, 1.0):
        progress.update(done)
    assert out.getvalue().splitlines() == ["replay: 0%", "replay: 30%", "replay: 90%", "replay: 100%"]


def test_on_a_terminal_a_bar_redrawn_when_the_percent_changes() -> None:
    out = Terminal()
    progress = Progress("simulate", out)
    progress.update(0.0, "2024-01-01 00:00")
    progress.update(0.001, "2024-01-01 00:01")  # still 0 %: not redrawn
    progress.update(0.5, "2024-01-15")
    progress.update(1.0, "2024-01-29")
    progress.close()
    empty, half, full = "." * 30, "#" * 15 + "." * 15, "#" * 30
    first = f"simulate [{empty}]   0% 2024-01-01 00:00"
    second = f"simulate [{half}]  50% 2024-01-15"
    # A shorter line blanks what is left of the longer one before it.
    assert out.getvalue() == ("\r" + first + "\r" + second + " " * (len(first) - len(second))
                              + f"\rsimulate [{full}] 100% 2024-01-29" + "\n")


def test_close_before_any_update_writes_nothing() -> None:
    out = Terminal()
    Progress("simulate", out).close()
    assert out.getvalue() == ""
