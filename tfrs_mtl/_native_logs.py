"""`quiet_native_logs`: hides what native code (ScaNN's C++ builder) writes to stderr.

ScaNN logs through absl straight to file descriptor 2 ("All 1682 points are exactly the same",
"Could not normalize centroid"), which neither Python's logging nor `TF_CPP_MIN_LOG_LEVEL`
reaches. Inside the context, descriptor 2 points at a temporary file; the text is dropped
when the block succeeds and written back to stderr when it raises, so nothing needed to
understand a failure is lost. `TFRS_MTL_VERBOSE=1` turns the capture off.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()


def verbose() -> bool:
    """Whether the user asked for every log line (`TFRS_MTL_VERBOSE` set and not `0`)."""
    return os.environ.get("TFRS_MTL_VERBOSE", "") not in ("", "0")


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Redirects descriptor 2 to a temporary file for the block (see the module docstring)."""
    if verbose():
        yield
        return
    with _LOCK, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
