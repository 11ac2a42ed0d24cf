"""`output_lock`: one tfrs-mtl process at a time writes an output folder.

An advisory `fcntl.flock` on a lock file, held for the whole run. The file records who holds
it (pid, host, start time, command), so a second run is told who is writing the folder
instead of crashing on the first one's backup or resuming from its live state. The kernel
releases a flock when its process dies, however it dies: a lock left by a killed run is
free, and the file is simply reused.

A run folder's lock is `OUT/.lock` (`LOCK_FILE`); the export command, which replaces its
folder as a whole, locks `.NAME.lock` beside it (`sibling_lock_path`).

Example:
    >>> with output_lock(Path("runs/ml/.lock"), "--out runs/ml"):  # doctest: +SKIP
    ...     ...  # write runs/ml
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tfrs_mtl._messages import shorten

LOCK_FILE = ".lock"


class OutputInUseError(FileExistsError):
    """Another process holds the lock of an output folder; the message names it."""


def sibling_lock_path(folder: Path) -> Path:
    """The lock of a folder replaced as a whole: `.NAME.lock` beside it."""
    return folder.with_name(f".{folder.name}.lock")


def _holder_record(descriptor: int) -> dict[str, Any] | None:
    try:
        record = json.loads(os.pread(descriptor, 4096, 0).decode("utf-8"))
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _holder_text(descriptor: int) -> str:
    """Who holds the lock, from the lock file's record (or what is known without one)."""
    record = _holder_record(descriptor) or {}
    if not {"pid", "host", "started", "command"} <= set(record):
        return "a process that has not said who it is yet"
    return (
        f"pid {record['pid']} on {record['host']}, started {record['started']}: "
        f"{shorten(str(record['command']), 120)}"
    )


def lock_holder(lock_path: Path) -> str | None:
    """Who holds the lock at `lock_path` ("pid N on HOST, started ...: COMMAND"), or None
    when no live process holds it (or this process does)."""
    try:
        descriptor = os.open(lock_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            record = _holder_record(descriptor) or {}
            return None if record.get("pid") == os.getpid() else _holder_text(descriptor)
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return None
    finally:
        os.close(descriptor)


def _open_locked(lock_path: Path, what: str) -> int:
    """A descriptor of `lock_path` holding its exclusive lock (the file at the path, not one
    unlinked by the previous holder between our open and our lock)."""
    while True:
        try:
            descriptor = os.open(
                lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644
            )
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise OutputInUseError(
                    f"{lock_path} is a symbolic link; tfrs_mtl does not write through links "
                    "inside an output folder: remove it"
                ) from None
            raise OSError(error.errno, f"cannot write in {what}: {error.strerror}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_text(descriptor)
            os.close(descriptor)
            raise OutputInUseError(
                f"{what} is being written by another tfrs-mtl process ({holder}); wait for it "
                "to finish, or choose another output"
            ) from None
        try:
            same = lock_path.lstat().st_ino == os.fstat(descriptor).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return descriptor
        os.close(descriptor)  # released and removed meanwhile: lock the file now there


@contextlib.contextmanager
def output_lock(lock_path: Path, what: str) -> Iterator[None]:
    """Holds the exclusive lock at `lock_path` while the block runs; removes the file after.

    Args:
        lock_path: the lock file (its folder must exist).
        what: how messages name the output, e.g. "--out runs/ml".

    Raises:
        OutputInUseError: another process holds the lock (the message names it), or the
            lock file is a symbolic link.
        OSError: the lock file cannot be created (a read-only folder, a full disk).
    """
    descriptor = _open_locked(lock_path, what)
    try:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": " ".join(["tfrs-mtl", *sys.argv[1:]]),
        }
        try:
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, json.dumps(record).encode("utf-8"), 0)
        except OSError as error:  # a full disk
            raise OSError(error.errno, f"cannot write in {what}: {error.strerror}") from None
        yield
    finally:
        with contextlib.suppress(OSError):
            lock_path.unlink()  # while still held: a waiting process then locks a new file
        os.close(descriptor)
