"""The evcc actuator: the only writer of the settings smartload owns.

It writes the difference between desired and observed, nothing while nothing changes,
retries failed writes with backoff, re-sends an external battery mode before evcc lets
it expire (60 s), pauses a loadpoint whose setting a person changed until the car
unplugs, and restores what it changed on a clean shutdown. In observe mode it logs the
writes it would make and sends none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from loguru import logger

from smartload.domain import SiteState
from smartload.settings import ControlSettings
from smartload.sinks.desired import Intent

Method = Literal["POST", "DELETE"]
_RESENT = ("charge", "hold")


@dataclass(frozen=True, slots=True)
class Write:
    key: str
    method: Method
    path: str
    value: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Override:
    loadpoint_id: int
    key: str
    at: datetime
    written: str
    observed: str | None


@dataclass
class _Memory:
    written: str | None = None
    written_at: datetime | None = None
    confirmed: bool = False
    inflight: bool = False
    failures: int = 0
    retry_at: datetime | None = None
    logged: str | None = None


def _lp_id(key: str) -> int | None:
    return int(key[2:].split(".", 1)[0]) if key.startswith("lp") else None


def observed_value(state: SiteState, key: str) -> str | None:
    """The value evcc shows for a key, in the same string form as the write."""
    if key == "batterymode":
        mode = state.battery.mode if state.battery else None
        return "normal" if mode in (None, "unknown", "normal") else mode
    lp_id, setting = _lp_id(key), key.split(".", 1)[1]
    lp = next((lp for lp in state.loadpoints if lp.id == lp_id), None)
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


def write_for(key: str, value: str | None, reason: str) -> Write:
    if key == "batterymode":
        if value is None or value == "normal":
            return Write(key, "DELETE", "/api/batterymode", None, reason)
        return Write(key, "POST", f"/api/batterymode/{value}", value, reason)
    lp_id, setting = _lp_id(key), key.split(".", 1)[1]
    return Write(key, "POST", f"/api/loadpoints/{lp_id}/{setting}/{value}", value, reason)


CONFIRM_TIMEOUT = timedelta(seconds=60)


@dataclass
class Actuator:
    """send(write) performs a write and later calls ack(); observed(write, at) hears of the
    writes observe mode would have made (a replay's report lists them)."""

    control: ControlSettings
    send: Callable[[Write], None]
    observed_write: Callable[[Write, datetime], None] | None = None
    desired: dict[str, Intent] = field(default_factory=dict)
    paused: dict[int, Override] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    override_listeners: list[Callable[[Override], None]] = field(default_factory=list)
    _memory: dict[str, _Memory] = field(default_factory=dict)
    # What evcc showed before smartload's first write of each key; kept across unplugs
    # (maxcurrent outlives a session), used to restore on shutdown.
    _originals: dict[str, str | None] = field(default_factory=dict)

    @property
    def observing(self) -> bool:
        return self.control.mode == "observe"

    def original(self, key: str) -> str | None:
        """What evcc showed for a key before smartload first wrote it (None: never written)."""
        return self._originals.get(key)

    def owns(self, key: str) -> bool:
        """True while a value smartload wrote stands for this key (so evcc shows ours)."""
        memory = self._memory.get(key)
        return memory is not None and (memory.written is not None or memory.inflight)

    def set_desired(self, intents: Mapping[str, Intent]) -> None:
        self.desired = dict(intents)

    def _forget_unplugged(self, state: SiteState) -> None:
        """evcc resets a loadpoint's session settings on disconnect: start afresh there."""
        connected = {lp.id for lp in state.loadpoints if lp.connected}
        for lp_id in list(self.paused):
            if lp_id not in connected:
                logger.info("loadpoint {}: car unplugged, smartload controls it again", lp_id)
                del self.paused[lp_id]
        for key in [k for k in self._memory if (_lp_id(k) or 0) and _lp_id(k) not in connected]:
            del self._memory[key]

    def _overridden(self, key: str, memory: _Memory, observed: str | None, wanted: str, now: datetime) -> bool:
        lp_id = _lp_id(key)
        if lp_id is None or memory.written is None or not memory.confirmed:
            return False
        if observed in (memory.written, wanted):
            return False
        override = Override(lp_id, key, now, memory.written, observed)
        self.paused[lp_id] = override
        self.overrides.append(override)
        for listener in self.override_listeners:
            listener(override)
        return True

    def _due(self, key: str, memory: _Memory, observed: str | None, wanted: str, now: datetime) -> bool:
        if memory.inflight or (memory.retry_at is not None and now < memory.retry_at):
            return False
        if key == "batterymode":
            if wanted in _RESENT:
                stale = memory.written_at is None or now - memory.written_at >= self.control.battery_mode_resend
                return observed != wanted or memory.written != wanted or stale
            # Hand the battery back to evcc once, if smartload had taken it.
            return memory.written in _RESENT
        if memory.written == wanted and observed != wanted and not memory.confirmed:
            # evcc has not shown our value yet: give it a minute before writing again.
            return memory.written_at is None or now - memory.written_at >= CONFIRM_TIMEOUT
        return observed != wanted

    def on_state(self, state: SiteState) -> list[Write]:
        """Compare desired with what evcc shows; send what differs. Called on every poll."""
        now = state.at
        self._forget_unplugged(state)
        connected = {lp.id for lp in state.loadpoints if lp.connected}
        writes = []
        for key, intent in self.desired.items():
            lp_id = _lp_id(key)
            # A plan made before the car left may still name its loadpoint: leave it alone.
            if lp_id is not None and (lp_id in self.paused or lp_id not in connected):
                continue
            memory = self._memory.setdefault(key, _Memory())
            observed = observed_value(state, key)
            if memory.written is not None and observed == memory.written:
                memory.confirmed = True
            if self._overridden(key, memory, observed, intent.value, now):
                continue
            if not self._due(key, memory, observed, intent.value, now):
                continue
            write = write_for(key, intent.value, intent.reason)
            if self.observing:
                if memory.logged != intent.value:
                    memory.logged = intent.value
                    logger.info("observe mode: would {} {} ({})", write.method, write.path, intent.reason)
                    if self.observed_write is not None:
                        self.observed_write(write, now)
                continue
            self._originals.setdefault(key, observed)
            memory.inflight = True
            writes.append(write)
        for write in writes:
            self.send(write)
        return writes

    def ack(self, write: Write, at: datetime, error: str | None) -> None:
        """The outcome of a sent write."""
        memory = self._memory.setdefault(write.key, _Memory())
        memory.inflight = False
        if error is None:
            memory.written, memory.written_at, memory.confirmed = write.value or "normal", at, False
            memory.failures, memory.retry_at = 0, None
            return
        memory.failures += 1
        wait = min(timedelta(seconds=10) * 2 ** (memory.failures - 1), self.control.write_backoff_max)
        memory.retry_at = at + wait
        logger.warning("evcc write {} {} failed ({}); retrying in {:.0f} s", write.method, write.path, error,
                       wait.total_seconds())

    def restore_writes(self, state: SiteState) -> list[Write]:
        """What to write on a clean shutdown: every setting smartload changed goes back.
        The caller sends them and waits (the loop is about to stop)."""
        if self.observing:
            return []
        connected = {lp.id for lp in state.loadpoints if lp.connected}
        writes = []
        for key, original in self._originals.items():
            lp_id = _lp_id(key)
            if original is None or key.endswith(".vehicle"):
                continue
            if lp_id is not None and (lp_id not in connected or lp_id in self.paused):
                continue
            if observed_value(state, key) != original:
                writes.append(write_for(key, original, "restoring the value smartload found"))
        return writes
