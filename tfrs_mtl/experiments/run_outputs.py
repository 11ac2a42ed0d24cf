"""Writing a run folder so that a failure never leaves a half-written file in place.

Each file is written to a temporary sibling and renamed over its target (`os.replace` is
atomic on POSIX); folders (the model) are written to a hidden sibling folder and renamed.
The report files are first written together into a staging folder, then moved into place
with `metrics.json` last, so a reader never sees a `metrics.json` without its report.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tfrs_mtl._atomic_files import staged_folder

EXPERIMENT_FILE = "experiment.yaml"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.json"
REPORT_FILE = "report.md"
MODEL_DIR = "model"
EXPORT_DIR = "export"
TENSORBOARD_DIR = "tensorboard"
CHECKPOINT_DIR = "checkpoints"


def write_text_atomically(path: Path, text: str) -> Path:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


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


def prepare_out_dir(out_dir: str | Path, *, overwrite: bool, create: bool = True) -> Path:
    """Checks `out_dir` (refuses a file, or a non-empty folder unless `overwrite`) and, with
    `create`, makes it. `create=False` lets a run check its output before it can fail on its
    input, and make the folder only once there is something to write."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file; --out must be a folder")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(
            f"{folder} exists and is not empty; choose another --out or pass --overwrite"
        )
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder
