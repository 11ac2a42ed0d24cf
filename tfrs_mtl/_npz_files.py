"""Reading the `.npz` files tfrs_mtl writes, never unpickling and naming the file on failure."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from tfrs_mtl._input_files import file_problem

T = TypeVar("T")


class NpzFileError(ValueError):
    """A `.npz` that is not one tfrs_mtl wrote; the message names the file and why."""


def read_npz(path: str | Path, what: str, read: Callable[[Any], T]) -> T:
    """`read(stored)` on the opened `.npz` at `path` (`allow_pickle=False`).

    Args:
        path: the file.
        what: what the file holds, for the message (e.g. "serving-data").
        read: builds the result from numpy's `NpzFile` (indexing it by array name).

    Raises:
        FileNotFoundError: `path` does not exist.
        NpzFileError: `path` is not such a file: not a regular file (a FIFO would block),
            not a zip, truncated, missing an array, or holding object arrays (which would
            need unpickling); names the file and why.
    """
    problem = file_problem(path)
    if problem is not None and problem != "does not exist":
        raise NpzFileError(f"{path}: {problem}; expected the {what} file written by tfrs_mtl")
    try:
        with np.load(path, allow_pickle=False) as stored:
            return read(stored)
    except FileNotFoundError:
        raise
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as error:
        raise NpzFileError(
            f"{path}: not a readable {what} file written by tfrs_mtl ({error})"
        ) from error


def arrays_with_prefix(stored: Any, prefix: str) -> dict[str, np.ndarray]:
    """The arrays of an opened `.npz` whose names start with `prefix`, keyed without it
    (how `save` stores a mapping of arrays, e.g. `feature:<name>`)."""
    return {key.removeprefix(prefix): stored[key] for key in stored.files if key.startswith(prefix)}
