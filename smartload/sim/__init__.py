"""The embedded evcc simulator: a site model and an HTTP server speaking evcc's API.

Public API: SimSettings, load_scenario, Scenario, Site, SimServer, run_sim (and
smartload.sim.cli for the command line). Exports resolve lazily, so that
importing smartload.sim does not pull in numpy and uvicorn with it. SimSettings lives with
the other settings in smartload.settings.sim.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "SimSettings": "smartload.settings.sim",
    "Scenario": "smartload.sim.scenario",
    "ScenarioError": "smartload.sim.scenario",
    "load_scenario": "smartload.sim.scenario",
    "Site": "smartload.sim.site",
    "SimServer": "smartload.sim.server",
    "run_sim": "smartload.sim.server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'smartload.sim' has no attribute {name!r}")
