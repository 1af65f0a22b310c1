"""The data directory: its SQLite files are private to the user (mode 0600, like the web
token), and one instance at a time owns it (an OS lock held for the process's life, so a
`kill -9` frees it: the kernel drops the lock with the process)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from pathlib import Path
from types import TracebackType

LOCK_FILE = "smartload.lock"
_SIDE_FILES = ("-wal", "-shm", "-journal")


class DataDirLocked(Exception):
    """Another process holds the data directory; the message is one line for the user."""


def private_database(path: Path) -> None:
    """Create an SQLite file with mode 0600 before sqlite3 opens it, and tighten one made
    earlier. SQLite gives the -wal and -shm files it creates the main file's mode."""
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, *(path.with_name(path.name + side) for side in _SIDE_FILES)):
        # Another user's file (a copy made as root) stays as it is: not ours to change.
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if stat.S_IMODE(file.stat().st_mode) & 0o077:
                file.chmod(0o600)


def data_dir_problem(path: Path) -> str | None:
    """Why the service could not keep its files in `path` (None: it can). Created at
    start if missing, so what counts then is the nearest directory that exists."""
    if path.exists() and not path.is_dir():
        return f"{path} is not a directory"
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return f"{path} is not writable for this user"
    return None


class InstanceLock:
    """with InstanceLock(data_dir): ... raises DataDirLocked if another process has it."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> InstanceLock:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            pid = f" (pid {holder})" if holder.isdigit() else ""
            raise DataDirLocked(f"{self.path.parent}: another smartload{pid} is running on this data directory; "
                                "stop it, or give this one its own data_dir") from None
        except OSError:
            os.close(fd)
            raise
        # The holder's pid, for the message above; the lock itself is what counts.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            # The file stays: removing it would race with an instance starting just now.
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
