"""The evcc settings smartload owns, by key: how evcc shows each one and how it is written.

Keys name the setting and its scope: "lp1.mode", "lp1.maxcurrent", "lp1.limitsoc",
"lp1.vehicle", "batterymode". Values are the strings evcc's API takes, so what smartload
wrote and what evcc shows compare as strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from smartload.domain import SiteState

Method = Literal["POST", "DELETE"]
# change: evcc is asked to show something else; keepalive: the same battery mode again,
# before evcc lets it expire; restore: a value smartload found, put back on shutdown.
WriteKind = Literal["change", "keepalive", "restore"]
WRITE_KINDS: tuple[WriteKind, ...] = ("change", "keepalive", "restore")


@dataclass(frozen=True, slots=True)
class Write:
    key: str
    method: Method
    path: str
    value: str | None
    reason: str
    kind: WriteKind = "change"

    @property
    def shown(self) -> str:
        """What evcc shows once it took the write, as observed_value gives it (a DELETE of
        the battery mode: normal)."""
        return self.value or "normal"


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What became of a write: sent at `at` (error None: evcc answered 2xx), or only
    logged because smartload observes (sent False)."""

    write: Write
    at: datetime
    sent: bool = True
    error: str | None = None


def lp_id(key: str) -> int | None:
    """The loadpoint a key belongs to; None for site-wide keys (the battery)."""
    return int(key[2:].split(".", 1)[0]) if key.startswith("lp") else None


def observed_value(state: SiteState, key: str) -> str | None:
    """The value evcc shows for a key, in the same string form as the write."""
    if key == "batterymode":
        mode = state.battery.mode if state.battery else None
        return "normal" if mode in (None, "unknown", "normal") else mode
    loadpoint, setting = lp_id(key), key.split(".", 1)[1]
    lp = next((lp for lp in state.loadpoints if lp.id == loadpoint), None)
    if lp is None:
        return None
    if setting == "mode":
        return lp.mode.value if lp.mode else None
    if setting == "maxcurrent":
        return None if lp.max_current_a is None else str(round(lp.max_current_a))
    if setting == "limitsoc":
        return None if lp.limit_soc_pct is None else str(round(lp.limit_soc_pct))
    if setting == "vehicle":
        return lp.vehicle_name
    raise KeyError(key)


def write_for(key: str, value: str | None, reason: str, kind: WriteKind = "change") -> Write:
    if key == "batterymode":
        if value is None or value == "normal":
            return Write(key, "DELETE", "/api/batterymode", None, reason, kind)
        return Write(key, "POST", f"/api/batterymode/{value}", value, reason, kind)
    loadpoint, setting = lp_id(key), key.split(".", 1)[1]
    return Write(key, "POST", f"/api/loadpoints/{loadpoint}/{setting}/{value}", value, reason, kind)
