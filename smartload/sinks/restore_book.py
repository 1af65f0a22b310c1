"""What smartload changed in evcc, kept so a clean stop can put it back.

Per evcc setting (actuator key): what evcc showed before smartload's first write there,
the last value evcc acknowledged from smartload, and the value on its way (sent, not yet
acknowledged). A clean stop writes the first back wherever evcc still shows one of the
others; a value someone else set since (a person in evcc's UI, evcc's own reset at an
unplug) is theirs and stays. Given a store (the data directory), every change is kept as
it happens, the value on its way before it is sent, so a run killed with SIGKILL loses
none of it and the next run's clean stop restores it: killed after evcc took a write but
before its answer was kept, the setting stayed as smartload left it (a maximum current
of 6 A against evcc's 16, tests/integration/test_restore_after_crash.py, 4 runs in 10 on 2
loaded cores).
"""

from __future__ import annotations

from typing import Protocol

from smartload.domain import SiteState
from smartload.sinks.evcc_keys import Write, observed_value, write_for


class RestoreStore(Protocol):
    """Where the values to restore outlive the process: key -> (original, smartload's own
    acknowledged, smartload's own on its way)."""

    def load(self) -> dict[str, tuple[str | None, str | None, str | None]]: ...

    def save(self, key: str, original: str | None, ours: str | None, sent: str | None) -> None: ...

    def delete(self, key: str) -> None: ...


class RestoreBook:
    def __init__(self, store: RestoreStore | None = None) -> None:
        self._store = store
        self._originals: dict[str, str | None] = {}
        self._ours: dict[str, str | None] = {}
        self._sent: dict[str, str | None] = {}
        for key, (original, ours, sent) in (store.load() if store is not None else {}).items():
            self._originals[key], self._ours[key], self._sent[key] = original, ours, sent

    def original(self, key: str) -> str | None:
        """What evcc showed for a key before smartload first wrote it (None: never written)."""
        return self._originals.get(key)

    def before_write(self, key: str, observed: str | None, value: str) -> None:
        """A write of `value` to `key` goes out: the value evcc shows is the original if it
        is the first; the value is kept as on its way unless evcc acknowledged it before
        (a keep-alive costs the data directory nothing)."""
        first = key not in self._originals
        if first:
            self._originals[key] = observed
        sent = None if value == self._ours.get(key) else value
        if first or sent != self._sent.get(key):
            self._sent[key] = sent
            self._keep(key)

    def written(self, key: str, value: str) -> None:
        """evcc accepted smartload's value for `key`."""
        sent = None if self._sent.get(key) == value else self._sent.get(key)
        if self._ours.get(key) != value or sent != self._sent.get(key):
            self._ours[key], self._sent[key] = value, sent
            self._keep(key)

    def _keep(self, key: str) -> None:
        if self._store is not None:
            self._store.save(key, self._originals.get(key), self._ours.get(key), self._sent.get(key))

    def writes(self, state: SiteState) -> list[Write]:
        """What to write back: each setting that still shows smartload's value."""
        writes = []
        for key, original in self._originals.items():
            observed = observed_value(state, key)
            if original is None or key.endswith(".vehicle") or observed == original:
                continue
            if observed is not None and observed in (self._ours.get(key), self._sent.get(key)):
                writes.append(write_for(key, original, "restoring the value smartload found", "restore"))
        return writes

    def forget(self, failed: set[str]) -> None:
        """Forget what was restored or needs no restoring; keep what failed for next time."""
        for key in list(self._originals):
            if key in failed:
                continue
            del self._originals[key]
            self._ours.pop(key, None)
            self._sent.pop(key, None)
            if self._store is not None:
                self._store.delete(key)
