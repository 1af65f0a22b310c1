"""The evcc actuator: the only writer of the settings smartload owns.

It writes the difference between desired and observed, nothing while nothing changes, and
retries failed writes with backoff. A write counts as done only once evcc's state shows
it: one that does not show within two polls is reported once as not applied by evcc and
that value is not sent again for six hours, whatever the plan asks meanwhile (evcc
answers 200 to a battery mode it cannot apply). An external battery mode is re-sent before evcc lets it
expire (60 s): a keep-alive, not a change.

A person's change in evcc pauses the loadpoint until the car unplugs. A change of vehicle
at a loadpoint is not a person's change: a swap between two polls (one car unplugged,
the next plugged in) makes evcc reset the session's settings itself, so the actuator
starts afresh there and writes them again for the new car. Intents name the evcc vehicle
they were planned for, so a plan made for the car that left is not applied to the next.

What evcc showed before smartload first changed a setting is kept (in the data directory
when a store is given, so a crash loses none of it) and put back on a clean shutdown,
wherever evcc still shows smartload's own value. In observe mode the writes it would
make are logged and none is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from loguru import logger
from reactivex.subject import Subject

from smartload.backoff import backoff_delay
from smartload.domain import LoadpointState, SiteState, new_session
from smartload.settings import ControlSettings
from smartload.sinks.desired import Intent
from smartload.sinks.evcc_keys import Write, WriteKind, WriteOutcome, lp_id, observed_value, write_for
from smartload.sinks.restore_book import RestoreBook, RestoreStore

__all__ = ["Actuator", "NotApplied", "Notice", "Override", "SessionChange", "Write", "WriteOutcome", "write_for"]

_RESENT = ("charge", "hold")
# Polls after a successful write within which evcc must show the value.
NOT_APPLIED_AFTER_POLLS = 2
# A value evcc did not apply is tried again after this (evcc's configuration may change).
REFUSED_RETRY = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Override:
    loadpoint_id: int
    key: str
    at: datetime
    written: str
    observed: str | None


@dataclass(frozen=True, slots=True)
class NotApplied:
    """evcc accepted a write but its state did not show the value within two polls."""

    key: str
    at: datetime
    written: str
    observed: str | None


@dataclass(frozen=True, slots=True)
class SessionChange:
    """A new charging session at a connected loadpoint: another vehicle, or the same one
    plugged in again, between two polls."""

    loadpoint_id: int
    at: datetime
    before: str
    after: str


Notice = Override | NotApplied | SessionChange


@dataclass
class _Memory:
    written: str | None = None
    written_at: datetime | None = None
    confirmed: bool = False
    inflight: bool = False
    failures: int = 0
    retry_at: datetime | None = None
    logged: str | None = None
    unshown_polls: int = 0
    seen_at: datetime | None = None  # the last poll counted for unshown_polls


@dataclass
class Actuator:
    """Each write to send leaves on `outbox`; whoever sends it reports back with ack().
    The writes observe mode would have made leave on `observed` (a replay's report lists
    them), and what it notices about evcc on `notices`."""

    control: ControlSettings
    restore_store: RestoreStore | None = None
    desired: dict[str, Intent] = field(default_factory=dict)
    paused: dict[int, Override] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    not_applied: list[NotApplied] = field(default_factory=list)
    notices: Subject[Notice] = field(default_factory=Subject)
    outbox: Subject[Write] = field(default_factory=Subject)
    observed: Subject[WriteOutcome] = field(default_factory=Subject)
    _memory: dict[str, _Memory] = field(default_factory=dict)
    _sessions: dict[int, LoadpointState] = field(default_factory=dict)
    # Values evcc accepted but did not apply, per key, with when that was seen last.
    _refused: dict[str, dict[str, datetime]] = field(default_factory=dict)
    def __post_init__(self) -> None:
        # Kept across unplugs (maxcurrent outlives a session) and, with a store, crashes.
        self._book = RestoreBook(self.restore_store)

    @property
    def observing(self) -> bool:
        return self.control.mode == "observe"

    def original(self, key: str) -> str | None:
        """What evcc showed for a key before smartload first wrote it (None: never written)."""
        return self._book.original(key)

    def owns(self, key: str) -> bool:
        """True while a value smartload wrote stands for this key (so evcc shows ours)."""
        memory = self._memory.get(key)
        return memory is not None and (memory.written is not None or memory.inflight)

    def set_desired(self, intents: Mapping[str, Intent]) -> None:
        self.desired = dict(intents)

    def _notify(self, notice: Notice) -> None:
        self.notices.on_next(notice)

    def _forget(self, loadpoint: int) -> None:
        self.paused.pop(loadpoint, None)
        for key in [k for k in self._memory if lp_id(k) == loadpoint]:
            del self._memory[key]

    def _track_sessions(self, state: SiteState) -> None:
        """evcc resets a loadpoint's session settings on disconnect and when the next car
        arrives: start afresh there, also when no poll saw the loadpoint empty."""
        # A heat pump is always connected and starts a session each day: not a car's.
        connected = {lp.id: lp for lp in state.loadpoints if lp.connected and not lp.is_device}
        for loadpoint in list(self.paused):
            if loadpoint not in connected:
                logger.info("loadpoint {}: car unplugged, smartload controls it again", loadpoint)
        for key in [k for k in self._memory if (lp_id(k) or 0) and lp_id(k) not in connected]:
            del self._memory[key]
        self.paused = {k: v for k, v in self.paused.items() if k in connected}
        sessions = {}
        for loadpoint, lp in connected.items():
            previous = self._sessions.get(loadpoint)
            if previous is not None and new_session(previous, lp):
                self._forget(loadpoint)
                self._notify(SessionChange(loadpoint, state.at, previous.vehicle_name or "", lp.vehicle_name or ""))
            sessions[loadpoint] = lp
        self._sessions = sessions

    def _verify(self, key: str, memory: _Memory, observed: str | None, now: datetime) -> None:
        """Confirm a write once evcc shows it; report it once if it has not after two polls."""
        refused = self._refused.get(key)
        if refused and observed in refused:
            del refused[observed]  # evcc shows it after all: it can apply it
        if memory.written is None or memory.inflight:
            return
        if observed == memory.written:
            memory.confirmed, memory.unshown_polls = True, 0
            return
        if memory.confirmed or memory.written_at is None or now <= memory.written_at:
            return
        if memory.seen_at is not None and now <= memory.seen_at:
            return  # this poll was counted already (each plan looks at the last poll again)
        memory.seen_at = now
        memory.unshown_polls += 1
        if memory.unshown_polls == NOT_APPLIED_AFTER_POLLS:
            told = self._refused.setdefault(key, {})
            if memory.written not in told:
                notice = NotApplied(key, now, memory.written, observed)
                self.not_applied.append(notice)
                self._notify(notice)
            told[memory.written] = now

    def _refuses(self, key: str, value: str, now: datetime) -> bool:
        """Did evcc not apply this value lately? Then asking again changes nothing."""
        at = self._refused.get(key, {}).get(value)
        return at is not None and now - at < REFUSED_RETRY

    def _overridden(self, key: str, memory: _Memory, observed: str | None, wanted: str, now: datetime) -> bool:
        loadpoint = lp_id(key)
        if loadpoint is None or memory.written is None or not memory.confirmed:
            return False
        if observed in (memory.written, wanted):
            return False
        override = Override(loadpoint, key, now, memory.written, observed)
        self.paused[loadpoint] = override
        self.overrides.append(override)
        self._notify(override)
        return True

    def _due(self, key: str, memory: _Memory, observed: str | None, wanted: str, now: datetime) -> WriteKind | None:
        """The kind of write due for this key now, or None."""
        if memory.inflight or (memory.retry_at is not None and now < memory.retry_at):
            return None
        if self._refuses(key, wanted, now):
            return None  # evcc does not apply it: asking again in a loop changes nothing
        if memory.written == wanted and not memory.confirmed and memory.unshown_polls < NOT_APPLIED_AFTER_POLLS:
            return None  # sent; evcc has two polls to show it
        if key == "batterymode":
            if wanted in _RESENT:
                if memory.written != wanted or observed != wanted:
                    return "change"
                stale = memory.written_at is None or now - memory.written_at >= self.control.battery_mode_resend
                return "keepalive" if stale else None
            # Hand the battery back to evcc once, if smartload had taken it.
            return "change" if memory.written in _RESENT else None
        return "change" if observed != wanted else None

    def on_state(self, state: SiteState) -> list[Write]:
        """Compare desired with what evcc shows; send what differs. Called on every poll."""
        now = state.at
        self._track_sessions(state)
        by_id = {lp.id: lp for lp in state.loadpoints if lp.connected}
        writes = []
        for key, intent in self.desired.items():
            loadpoint = lp_id(key)
            if loadpoint is not None:
                lp = by_id.get(loadpoint)
                # A plan made before the car left (or for the car before this one) may
                # still name this loadpoint: leave it alone until the next plan.
                if lp is None or loadpoint in self.paused:
                    continue
                if intent.vehicle is not None and (lp.vehicle_name or "") != intent.vehicle:
                    continue
            memory = self._memory.setdefault(key, _Memory())
            observed = observed_value(state, key)
            if observed is None:
                continue  # evcc's value is unknown this poll (absent, or dropped as impossible)
            self._verify(key, memory, observed, now)
            if self._overridden(key, memory, observed, intent.value, now):
                continue
            kind = self._due(key, memory, observed, intent.value, now)
            if kind is None:
                continue
            write = write_for(key, intent.value, intent.reason, kind)
            if self.observing:
                if memory.logged != intent.value:
                    memory.logged = intent.value
                    logger.info("observe mode: would {} {} ({})", write.method, write.path, intent.reason)
                    self.observed.on_next(WriteOutcome(write, now, sent=False))
                continue
            self._book.before_write(key, observed, write.shown)
            memory.inflight = True
            writes.append(write)
        for write in writes:
            self.outbox.on_next(write)
        return writes

    def ack(self, outcome: WriteOutcome) -> None:
        """The outcome of a sent write."""
        write, at, error = outcome.write, outcome.at, outcome.error
        memory = self._memory.setdefault(write.key, _Memory())
        memory.inflight = False
        if error is None:
            value = write.shown
            if value != memory.written or not memory.confirmed:
                # A new value, or one evcc did not show, tried again: evcc has two polls to
                # show it. The same value again (a keep-alive) stands confirmed.
                memory.unshown_polls, memory.confirmed, memory.seen_at = 0, False, None
            memory.written, memory.written_at = value, at
            memory.failures, memory.retry_at = 0, None
            if write.kind != "restore":
                self._book.written(write.key, value)
            return
        memory.failures += 1
        wait = backoff_delay(timedelta(seconds=10), self.control.write_backoff_max, memory.failures)
        memory.retry_at = at + wait
        logger.warning("evcc write {} {} failed ({}); retrying in {:.0f} s", write.method, write.path, error,
                       wait.total_seconds())

    def restore_writes(self, state: SiteState) -> list[Write]:
        """What to write on a clean shutdown (restore_book.py says which); the caller sends
        them and reports with `restored`."""
        return [] if self.observing else self._book.writes(state)

    def restored(self, failed: set[str]) -> None:
        """Forget what was restored or needs no restoring; keep what failed for next time."""
        self._book.forget(failed)
