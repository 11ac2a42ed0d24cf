"""What a path given as input really is, and reading a small input file without surprises.

A folder, a symbolic link that loops or points nowhere, a FIFO or a device given where a file
is expected is named as such ("is a folder"), not reported as "file not found". A FIFO is
never waited on (opening it for reading would block until a writer comes), a device never
read (`/dev/zero` has no end), and a file larger than the reader's limit is refused before
it is read.

Example:
    >>> data = read_regular_file("experiment.yaml", max_bytes=1 << 20)  # doctest: +SKIP
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class InputFileError(OSError):
    """An input path that is not a readable regular file; `str()` names the path and what
    it is instead."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(problem)
        self.path = str(path)
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def _kind_of_mode(mode: int) -> str:
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def _stat_problem(path: str | os.PathLike[str], error: OSError) -> str:
    """Why `os.stat(path)` failed, in words: a loop, a broken link, a missing part."""
    if error.errno == errno.ELOOP:
        return "is a symbolic link that loops (or a chain of links too long)"
    if error.errno == errno.ENOENT and Path(path).is_symlink():
        return f"is a broken symbolic link (to {Path(path).readlink()})"
    if error.errno == errno.ENOENT:
        return "does not exist"
    if error.errno == errno.ENOTDIR:
        return "does not exist (a part of its path is a file, not a folder)"
    if error.errno == errno.EACCES:
        return "cannot be read: permission denied"
    return f"cannot be read: {error.strerror}"


def path_kind(path: str | os.PathLike[str]) -> str:
    """What `path` is, following links: "a regular file", "a folder", "a FIFO (named pipe)",
    "a character device", ..., or why it cannot be looked at ("is a symbolic link that
    loops", "does not exist")."""
    try:
        return _kind_of_mode(Path(path).stat().st_mode)
    except OSError as error:
        return _stat_problem(path, error)


def _problem(path: str | os.PathLike[str], wanted: Callable[[int], bool]) -> str | None:
    try:
        mode = Path(path).stat().st_mode
    except OSError as error:
        return _stat_problem(path, error)
    return None if wanted(mode) else f"is {_kind_of_mode(mode)}"


def file_problem(path: str | os.PathLike[str]) -> str | None:
    """None when `path` is a regular file (links followed), else what it is, in words: "is a
    folder", "is a FIFO (named pipe)", "does not exist", "is a symbolic link that loops ..."
    (callers add what they expected)."""
    return _problem(path, stat.S_ISREG)


def folder_problem(path: str | os.PathLike[str]) -> str | None:
    """None when `path` is a folder (links followed), else what it is, in words."""
    return _problem(path, stat.S_ISDIR)


def read_regular_file(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> bytes:
    """The bytes of `path`, a regular file of at most `max_bytes` bytes.

    The file is opened without blocking and checked on the open descriptor, so a FIFO or a
    device swapped in after a check is still refused.

    Raises:
        InputFileError: `path` is missing, a folder, a FIFO, a device, a link that loops or
            dangles, unreadable, or larger than `max_bytes`.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ENXIO:  # a socket
            raise InputFileError(path, "is a socket; expected a regular file") from None
        raise InputFileError(path, _stat_problem(path, error)) from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = _kind_of_mode(info.st_mode)
            raise InputFileError(path, f"is {kind}; expected a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise InputFileError(
                path, f"is {info.st_size:,} bytes; expected at most {max_bytes:,} bytes"
            )
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except OSError as error:
        if isinstance(error, InputFileError):
            raise
        raise InputFileError(path, f"cannot be read: {error.strerror}") from None
    finally:
        os.close(descriptor)
    if max_bytes is not None and len(data) > max_bytes:  # it grew while being read
        raise InputFileError(path, f"is more than {max_bytes:,} bytes")
    return data
