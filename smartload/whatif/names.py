"""The names of the strategies a what-if run compares, apart from the strategies themselves:
`python -m smartload --help` lists them without importing the pipeline and the planner."""

from __future__ import annotations

NAMES = ("uncontrolled", "greedy", "smartload", "optimal")
