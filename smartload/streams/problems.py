"""Impossible values evcc sent, each told once.

The parser lists the values it ignored on every SiteState that carries them
(SiteState.problems): a meter stuck at -16 A would otherwise be reported every poll. A
person hears of each field once, when it first shows a problem, and again only when its
value changes, or when it was fine for a poll and then came back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import reactivex as rx
from reactivex import Observable

from smartload.domain import SiteState, ValueProblem
from smartload.streams.sync import expand


@dataclass(frozen=True, slots=True)
class ProblemSeen:
    """A problem at the first poll that showed it (or showed its new value)."""

    at: datetime
    problem: ValueProblem


def new_problems(states: Observable[SiteState]) -> Observable[ProblemSeen]:
    """Each (field, value) problem when it appears; nothing while it stays the same."""

    def build(_: object) -> Observable[ProblemSeen]:
        last: dict[str, str] = {}  # field path -> value, as the previous poll showed them

        def observe(state: SiteState) -> list[ProblemSeen]:
            if not state.problems and not last:
                return []
            seen = [ProblemSeen(state.at, p) for p in state.problems if last.get(p.path) != p.value]
            last.clear()
            last.update((p.path, p.value) for p in state.problems)
            return seen

        return states.pipe(expand(observe))  # fresh memory per subscription

    return rx.defer(build)
