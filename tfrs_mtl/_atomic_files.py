"""Atomic folder writes: build beside the target, swap in only when complete.

Shared by the run outputs (experiments) and the serving export, so that a failure at any
point leaves the previous folder, or nothing, but never a half-written one.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def staged_folder(path: Path) -> Iterator[Path]:
    """Yields a hidden sibling folder to write into; swaps it in for `path` on success.

    On an exception the staging folder is removed and `path` is left as it was. An existing
    `path` is replaced only once the new folder is complete (renamed aside, then deleted).
    """
    staging = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        yield staging
        if path.exists():
            retired = path.with_name(f".{path.name}.retired-{uuid.uuid4().hex[:8]}")
            path.rename(retired)
            staging.rename(path)
            shutil.rmtree(retired)
        else:
            staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
