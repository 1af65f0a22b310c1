"""What smartload changed in evcc, kept so a clean stop can put it back.

Per evcc setting (actuator key): what evcc showed before smartload's first write there,
and the last value smartload wrote. A clean stop writes the first back wherever evcc
still shows the second; a value someone else set since (a person in evcc's UI, evcc's own
reset at an unplug) is theirs and stays. Given a store (the data directory), every change
is kept as it happens, so a run killed with SIGKILL loses none of it and the next run's
clean stop restores it.
"""

from __future__ import annotations

from typing import Protocol

from smartload.domain import SiteState
from smartload.sinks.evcc_keys import Write, observed_value, write_for


class RestoreStore(Protocol):
    """Where the values to restore outlive the process: key -> (original, smartload's own)."""

    def load(self) -> dict[str, tuple[str | None, str | None]]: ...

    def save(self, key: str, original: str | None, ours: str | None) -> None: ...

    def delete(self, key: str) -> None: ...


class RestoreBook:
    def __init__(self, store: RestoreStore | None = None) -> None:
        self._store = store
        self._originals: dict[str, str | None] = {}
        self._ours: dict[str, str | None] = {}
        for key, (original, ours) in (store.load() if store is not None else {}).items():
            self._originals[key], self._ours[key] = original, ours

    def original(self, key: str) -> str | None:
        """What evcc showed for a key before smartload first wrote it (None: never written)."""
        return self._originals.get(key)

    def before_write(self, key: str, observed: str | None) -> None:
        """A write of `key` goes out: the value evcc shows is the original if it is the first."""
        if key not in self._originals:
            self._originals[key] = observed
            self._keep(key)

    def written(self, key: str, value: str) -> None:
        """evcc accepted smartload's value for `key`."""
        if self._ours.get(key) != value:
            self._ours[key] = value
            self._keep(key)

    def _keep(self, key: str) -> None:
        if self._store is not None:
            self._store.save(key, self._originals.get(key), self._ours.get(key))

    def writes(self, state: SiteState) -> list[Write]:
        """What to write back: each setting that still shows smartload's value."""
        writes = []
        for key, original in self._originals.items():
            observed = observed_value(state, key)
            if original is None or key.endswith(".vehicle") or observed == original:
                continue
            if observed is not None and observed == self._ours.get(key):
                writes.append(write_for(key, original, "restoring the value smartload found", "restore"))
        return writes

    def forget(self, failed: set[str]) -> None:
        """Forget what was restored or needs no restoring; keep what failed for next time."""
        for key in list(self._originals):
            if key in failed:
                continue
            del self._originals[key]
            self._ours.pop(key, None)
            if self._store is not None:
                self._store.delete(key)
