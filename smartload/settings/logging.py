"""Settings of the log: its level and whether it is written as JSON lines."""

from __future__ import annotations

from typing import Literal

from smartload.settings.types import StrictModel


class LoggingSettings(StrictModel):
    level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR"] = "INFO"
    json_lines: bool = False
