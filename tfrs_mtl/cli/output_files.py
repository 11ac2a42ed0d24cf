"""Where the serving commands write: `--output FILE` of `recommend`, `--out FOLDER` of
`export`, and what they read of the run folders they are given.

- `--output`: an existing file is replaced only with `--overwrite`; a folder, a FIFO or a
  device is refused; the file is written whole to a temporary sibling and renamed into
  place, after a check of the free space (a full disk never leaves a CSV cut mid-row).
- `export --out`: an existing folder is replaced only with `--overwrite` and only when it is
  an export (it holds `manifest.json`) or empty, never a file or a folder of other files;
  the export and its `serving_data.npz` are written to a hidden sibling and swapped in
  whole, under the folder's lock.
- A run folder (or its `export/`) that is incomplete is refused with what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tfrs_mtl._atomic_files import staged_folder, write_bytes_atomically
from tfrs_mtl._input_files import path_kind
from tfrs_mtl.cli.options import fail, output_path

OUTPUT_SUFFIXES = (".csv", ".jsonl")
MANIFEST = "manifest.json"


def checked_output_file(path: str, option: str, *, overwrite: bool) -> Path:
    """`path` for `--output`: a `.csv` or `.jsonl` file name (any case) that is new, or an
    existing regular file with `overwrite`. Fails naming the option otherwise."""
    target = output_path(path, option, is_file=True)
    if target.suffix.lower() not in OUTPUT_SUFFIXES:
        fail(f"{option} {path}: expected a .csv or .jsonl file name")
    if target.exists():
        if not target.is_file():
            fail(f"{option} {path} is {path_kind(target)}; expected a file name to write")
        if not overwrite:
            fail(f"{option} {path} exists; pass --overwrite to replace it")
    parent = target.parent
    for folder in (parent, *parent.parents):
        if folder.exists():
            if not folder.is_dir():
                fail(f"{option} {path}: {folder} is {path_kind(folder)}, not a folder")
            break
    return target


def write_output_file(target: Path, text: str, option: str) -> None:
    """Writes `text` to `target` whole (temporary sibling, then rename), creating its folder.
    Fails with one line naming the option and the reason (no space, read-only, ...)."""
    data = text.encode("utf-8")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(target, data)
    except OSError as error:
        fail(f"{option} {target}: cannot write it: {error.strerror or error}")


def checked_export_folder(path: str, option: str, *, overwrite: bool) -> Path:
    """`path` for `export --out`: new, empty, or (with `overwrite`) an existing export."""
    folder = output_path(path, option)
    if not folder.exists():
        return folder
    if not folder.is_dir():
        fail(f"{option} {path} is {path_kind(folder)}; expected an export folder")
    names = {entry.name for entry in folder.iterdir()}
    if names and MANIFEST not in names:
        fail(
            f"{option} {path} holds files that are not a tfrs_mtl export (no {MANIFEST}); "
            "choose another folder (--overwrite replaces only an export)"
        )
    if names and not overwrite:
        fail(f"{option} {path} exists; pass --overwrite to replace it")
    return folder


def write_export_folder(recommender: Any, folder: Path, serving_data: Any | None) -> Path:
    """Exports `recommender` and writes `serving_data` (a `ServingData`) beside it, then
    swaps the whole folder in for `folder` (under its lock: another export to it is told who
    writes it); nothing of it appears unless all of it was written."""
    from tfrs_mtl.experiments.run_lock import output_lock, sibling_lock_path
    from tfrs_mtl.experiments.serving_data import FILE_NAME

    folder.parent.mkdir(parents=True, exist_ok=True)
    with (
        output_lock(sibling_lock_path(folder), f"--out {folder}"),
        staged_folder(folder) as staging,
    ):
        recommender.save(staging)
        if serving_data is not None:
            serving_data.save(staging / FILE_NAME)
    return folder


def refuse_incomplete_run(path: str, option: str) -> None:
    """Fails when `path` is a run folder (or the `export/` of one) whose run is incomplete."""
    from tfrs_mtl.experiments.run_outputs import incomplete_run_problem

    problem = incomplete_run_problem(Path(path))
    if problem is not None:
        fail(f"{option}: {problem}")


def served_index_config(manifest: Path) -> Any:
    """The `IndexConfig` a run served (tuned, when it was), read from its export's manifest
    with the config reader's limits; fails naming the manifest when it holds none."""
    from tfrs_mtl.config import ConfigError
    from tfrs_mtl.config.config_files import read_config_file
    from tfrs_mtl.serving import IndexConfig

    try:
        content = read_config_file(manifest)
    except ConfigError as error:
        fail(str(error))
    if not isinstance(content, dict) or not isinstance(content.get("index_config"), dict):
        fail(f"{manifest}: no 'index_config' mapping; the export is damaged: train again")
    try:
        return IndexConfig.from_dict(content["index_config"])
    except ConfigError as error:
        fail(f"{manifest}: index_config: {error}")
