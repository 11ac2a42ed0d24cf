"""Writing a run folder so that a failure never leaves a half-written file in place, and
never a half-written folder that passes for a whole one.

Each file is written to a temporary sibling and renamed over its target (`os.replace` is
atomic on POSIX); folders (the model) are written to a hidden sibling folder and renamed.
The report files are first written together into a staging folder, then moved into place
with `metrics.json` last, so a reader never sees a `metrics.json` without its report.

A run marks its folder `INCOMPLETE` before it writes anything there and removes the marker
only once `metrics.json` is in place (`mark_incomplete`, `mark_complete`): a run that fails,
is killed or runs out of disk leaves a folder that says so, that `evaluate`, `export` and
`recommend` refuse (`incomplete_run_problem`) and that rerunning `train` resumes or starts
over (`run_folder_state`).
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from tfrs_mtl._atomic_files import staged_folder, write_bytes_atomically
from tfrs_mtl.experiments.run_lock import LOCK_FILE, lock_holder

EXPERIMENT_FILE = "experiment.yaml"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.json"
REPORT_FILE = "report.md"
MODEL_DIR = "model"
EXPORT_DIR = "export"
TENSORBOARD_DIR = "tensorboard"
CHECKPOINT_DIR = "checkpoints"
BACKUP_DIR = ".backup"
INCOMPLETE_FILE = "INCOMPLETE"

RunFolderState = Literal["missing", "empty", "complete", "interrupted", "incomplete", "foreign"]


class IncompleteRunError(RuntimeError):
    """A run folder whose run did not finish: being written, failed, killed or out of disk."""


def write_text_atomically(path: Path, text: str) -> Path:
    return write_bytes_atomically(path, text.encode("utf-8"))


def write_json_atomically(path: Path, content: Any) -> Path:
    return write_text_atomically(path, json.dumps(content, indent=2, sort_keys=True) + "\n")


def write_folder_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Calls `write(staging)` on a hidden sibling folder, then swaps it in for `path`."""
    with staged_folder(path) as staging:
        write(staging)
    return path


def move_files_into(staging: Path, folder: Path, last: Sequence[str] = (METRICS_FILE,)) -> None:
    """Moves every file of `staging` into `folder` (names in `last` last); removes `staging`."""
    names = sorted(p.name for p in staging.iterdir() if p.is_file())
    ordered = [n for n in names if n not in last] + [n for n in last if n in names]
    for name in ordered:
        (staging / name).replace(folder / name)
    shutil.rmtree(staging, ignore_errors=True)


def history_content(history: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """`history.json`: `epoch` (1-based) and every Keras history series as floats."""
    num_epochs = max((len(values) for values in history.values()), default=0)
    content: dict[str, Any] = {"epoch": list(range(1, num_epochs + 1))}
    content.update({key: [float(v) for v in values] for key, values in history.items()})
    return content


def _entries(folder: Path) -> set[str]:
    """The names in `folder`, its lock file aside."""
    return {path.name for path in folder.iterdir()} - {LOCK_FILE}


def prepare_out_dir(out_dir: str | Path, *, overwrite: bool, create: bool = True) -> Path:
    """Checks `out_dir` (refuses a file, or a non-empty folder unless `overwrite`) and, with
    `create`, makes it. `create=False` lets a run check its output before it can fail on its
    input, and make the folder only once there is something to write."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file; --out must be a folder")
    if folder.is_dir() and _entries(folder) and not overwrite:
        finished = run_folder_state(folder) == "complete"
        raise FileExistsError(
            f"{folder} "
            + ("holds a finished run (metrics.json)" if finished else "exists and is not empty")
            + "; choose another --out or pass --overwrite"
        )
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_folder_state(folder: Path) -> RunFolderState:
    """What `folder` holds: nothing (`missing`, `empty`), a `complete` run (metrics.json, no
    marker), an `interrupted` run with a training backup to resume, an `incomplete` run
    (marked, or a run folder without metrics.json), or `foreign` files."""
    if not folder.is_dir():
        return "missing"
    names = _entries(folder)
    if not names:
        return "empty"
    if BACKUP_DIR in names:
        return "interrupted"
    if INCOMPLETE_FILE in names or (EXPERIMENT_FILE in names and METRICS_FILE not in names):
        return "incomplete"
    return "complete" if METRICS_FILE in names else "foreign"


def mark_incomplete(folder: Path) -> None:
    """Writes `folder/INCOMPLETE` before a run writes anything else there."""
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    write_text_atomically(
        folder / INCOMPLETE_FILE,
        f"This run folder is incomplete: tfrs-mtl started writing it at {started} (pid "
        f"{os.getpid()} on {socket.gethostname()}) and has not finished.\n"
        "Rerun the same `tfrs-mtl train` command to resume it, or pass --overwrite to start "
        "over. `evaluate`, `export` and `recommend` refuse it until then.\n",
    )


def mark_complete(folder: Path) -> None:
    """Removes the marker: `metrics.json` and everything before it are in place."""
    (folder / INCOMPLETE_FILE).unlink(missing_ok=True)


def incomplete_run_problem(folder: Path) -> str | None:
    """Why `folder` (a run folder, or the `export/` of one) cannot be read as a finished run,
    or None when it can (or is not a run folder)."""
    if folder.name == EXPORT_DIR and (folder.parent / EXPERIMENT_FILE).is_file():
        folder = folder.parent
    if run_folder_state(folder) not in ("interrupted", "incomplete"):
        return None
    holder = lock_holder(folder / LOCK_FILE)
    if holder is not None:
        return f"{folder} is being written by a running tfrs-mtl process ({holder}); wait for it"
    return (
        f"{folder} holds an incomplete run (it failed, was killed or ran out of space before "
        f"metrics.json was written): rerun the same `tfrs-mtl train ... --out {folder}` to "
        "resume it, or pass --overwrite to start over"
    )


def refuse_incomplete_run(folder: str | Path) -> None:
    """Raises `IncompleteRunError` with `incomplete_run_problem`'s message, if any."""
    problem = incomplete_run_problem(Path(folder))
    if problem is not None:
        raise IncompleteRunError(problem)
