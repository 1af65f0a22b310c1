"""Settings of the embedded evcc simulator, and version_tuple, which reads the evcc
versions its `layout` names.

Nothing of the simulator itself here: importing the settings must not pull in numpy and
uvicorn (smartload/sim imports this module, not the reverse).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from smartload.settings.types import StrictModel

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
# The oldest layout the simulator can imitate: `grid{}` replaced `gridPower` in 0.133.0.
_OLDEST = (0, 133, 0)


def version_tuple(version: str) -> tuple[int, int, int]:
    match = _VERSION.match(version)
    if not match:
        raise ValueError(f"not an evcc version like 0.315.0: {version!r}")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


class SimSettings(StrictModel):
    """How the simulator runs. Every duration it applies is simulated time."""

    # Simulated seconds per wall-clock second (60: one simulated minute per second).
    speed: float = Field(default=60.0, gt=0)
    # A shipped scenario name (household, two_wallboxes, business, real_site) or a YAML file path.
    scenario: str = "household"
    # 0 picks a free port.
    port: int = Field(default=0, ge=0, le=65535)
    # Simulated start time; None means the current wall-clock time.
    start: datetime | None = None
    seed: int = 1
    # The evcc version whose /api/state layout (and `version` key) is served.
    layout: str = "0.315.0"
    # How long evcc takes to answer a write it has applied (simulated seconds). A busy evcc
    # on a small board takes seconds; a write still unanswered when smartload stops must be
    # waited for, or the restore would not know it landed.
    write_latency_s: float = Field(default=0.0, ge=0, le=600)
    # Physics step of the live clock in simulated seconds.
    step_s: float = Field(default=1.0, gt=0, le=60)
    # Hourly day-ahead prices (timestamp_utc,price_eur_per_mwh) for long runs; dates it
    # does not cover fall back to the shipped representative weeks.
    prices_csv: Path | None = None
    # evcc's login (server/http_auth.go); /api/state and every write work without it.
    # The admin password evcc has; None: none set yet.
    admin_password: SecretStr | None = None
    # evcc --demo: login is locked (403) and the state says demoMode.
    demo_mode: bool = False
    # evcc --disable-auth: every check passes and the state says authDisabled. None: as the
    # simulator always served, unless demo_mode or admin_password is set.
    disable_auth: bool | None = None

    @field_validator("admin_password")
    @classmethod
    def _password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            raise ValueError("evcc refuses an empty password")
        return value

    @property
    def auth_mode(self) -> Literal["disabled", "enabled", "locked"]:
        """evcc's auth.AuthMode: --demo locks even when auth is disabled."""
        if self.demo_mode:
            return "locked"
        return "disabled" if self.auth_disabled else "enabled"

    @property
    def auth_disabled(self) -> bool:
        if self.disable_auth is not None:
            return self.disable_auth
        return not self.demo_mode and self.admin_password is None

    @field_validator("layout")
    @classmethod
    def _layout(cls, value: str) -> str:
        if version_tuple(value) < _OLDEST:
            raise ValueError("layouts older than evcc 0.133.0 are not simulated")
        return value
