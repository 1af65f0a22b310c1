"""The strategies a what-if run compares. Each evcc-driven one is `run(ctx) -> Outcome`;
`optimal` is a whole-period plan (optimal.solve), not a controller.
Their names, for the command line, are in smartload.whatif.names."""

from __future__ import annotations

from collections.abc import Callable

from smartload.whatif.strategies import greedy, smartload, uncontrolled
from smartload.whatif.strategies.base import Outcome, RunContext

STRATEGIES: dict[str, Callable[[RunContext], Outcome]] = {
    "uncontrolled": uncontrolled.run,
    "greedy": greedy.run,
    "smartload": smartload.run,
}
