"""Giving the planner's freed memory back to the system after each solve.

The planner runs on a worker thread (solver.ThreadSolver), so glibc serves its
allocations (HiGHS's model copies, numpy's arrays) from a heap of that thread's own. What
a solve frees there stays mapped until malloc_trim returns it: the service's steady RSS
with the shipped settings was 104.7 MB, and 91.1 MB with a trim after each solve
(benchmarks/footprint.py: 120 simulated minutes at speed 60). Elsewhere (musl,
macOS, Windows) there is no malloc_trim and nothing is done.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache


@cache
def _trim() -> Callable[[int], int] | None:
    # Loaded at the first solve, not at import: check-config and --help never need it.
    import ctypes

    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


def release_freed_memory() -> None:
    """Return the freed pages of every glibc heap to the system (a few ms at most)."""
    trim = _trim()
    if trim is not None:
        trim(0)
