"""Atomic folder writes (build beside the target, swap in only when complete) and the rule
that keeps writes inside their output folder.

Shared by the run outputs (experiments) and the serving export, so that a failure at any
point leaves the previous folder, or nothing, but never a half-written one.

The output-path rule (docs/bad_inputs.md, "Security"):

1. The folder or file named on the command line (`--out`, `--output`) is where the user says;
   a folder may itself be a symbolic link (the user chose it), but a relative path may not
   climb out of the working folder with `..` (`tfrs_mtl.cli.options.output_path`). A file
   output may not be a link; the folder around it is the user's and is not searched.
2. Names that tfrs_mtl derives from inputs and uses as a path component inside an output
   folder (split and fold names, ids, dataset or run names) must be one plain component:
   not empty, not `.` or `..`, no `/`, `\\` or NUL (`safe_component`).
3. tfrs_mtl never writes through a symbolic link inside an output folder: a folder to be
   written that holds a link anywhere below it is refused (`refuse_links_inside`), a folder
   swapped in by `staged_folder` may not itself be a link, and files are written to a
   temporary sibling and renamed over their target (a rename replaces a link, never
   follows it; `write_bytes_atomically`). A folder swap never moves a file aside and puts
   the old folder back when the new one cannot be renamed into place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path


class UnsafeOutputPathError(FileExistsError):
    """An output path would write outside its folder (a `..`, a separator, a link)."""


def safe_component(name: str, what: str) -> str:
    """`name` if it is one plain path component; raises `UnsafeOutputPathError` otherwise.

    Args:
        name: a name derived from input (a split, fold, id, dataset or run name).
        what: what the name is, for the message (e.g. "split name").
    """
    if not name or name in (".", "..") or any(separator in name for separator in ("/", "\\", "\0")):
        raise UnsafeOutputPathError(
            f"{what} {name!r} cannot name a file or folder: it must be one path component "
            "(not empty, '.' or '..', no '/', '\\' or NUL)"
        )
    return name


def refuse_links_inside(folder: Path) -> None:
    """Raises `UnsafeOutputPathError` naming the first symbolic link found below `folder`
    (`folder` itself may be a link: the user named it)."""
    if not folder.is_dir():
        return
    for root, directories, files in os.walk(folder):  # os.walk does not follow links
        for name in sorted(directories + files):
            entry = Path(root, name)
            if entry.is_symlink():
                raise UnsafeOutputPathError(
                    f"{entry} is a symbolic link (to {entry.readlink()}); tfrs_mtl does not "
                    "write through links inside an output folder: remove it or choose another "
                    "folder"
                )


@contextlib.contextmanager
def staged_folder(path: Path) -> Iterator[Path]:
    """Yields a hidden sibling folder to write into; swaps it in for `path` on success.

    On an exception the staging folder is removed and `path` is left as it was. An existing
    `path` is replaced only once the new folder is complete (renamed aside, then deleted);
    if the new folder cannot be renamed into place, the old one is renamed back.

    Raises:
        UnsafeOutputPathError: `path` is a symbolic link (it would be replaced, and the
            folder it points to left as it was: refused rather than surprising).
        FileExistsError: `path` exists and is not a folder (a file is never moved aside).
    """
    if path.is_symlink():
        raise UnsafeOutputPathError(
            f"{path} is a symbolic link (to {path.readlink()}); tfrs_mtl does not write "
            "through links inside an output folder: remove it or choose another folder"
        )
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder; it is left as it is")
    staging = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        yield staging
        if path.exists():
            retired = path.with_name(f".{path.name}.retired-{uuid.uuid4().hex[:8]}")
            path.rename(retired)
            try:
                staging.rename(path)
            except OSError:
                retired.rename(path)  # the old folder back where it was
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_bytes_atomically(path: Path, data: bytes) -> Path:
    """Writes `data` to a temporary sibling, flushes it to disk and renames it over `path`
    (a rename replaces a link at `path`, never follows it); a failure leaves `path` as it
    was and no temporary file.

    Raises:
        OSError: ENOSPC before anything is written when the folder's free space is smaller
            than `data`; any error of the write or the rename.
    """
    free = shutil.disk_usage(path.parent).free
    if free < len(data):
        raise OSError(
            errno.ENOSPC,
            f"No space left on device ({len(data):,} bytes to write, {free:,} free)",
            str(path),
        )
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
