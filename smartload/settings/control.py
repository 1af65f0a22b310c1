"""Settings of the writes to evcc: act or only observe, re-sends and backoff."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from smartload.settings.types import Duration, StrictModel


class ControlSettings(StrictModel):
    mode: Literal["act", "observe"] = "act"
    battery_mode_resend: Duration = timedelta(seconds=30)
    write_backoff_max: Duration = timedelta(minutes=5)
