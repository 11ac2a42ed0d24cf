"""The export manifest: versions, configs, fingerprints and a checksummed file list.

`manifest.json` sits beside `saved_model.pb` and is written last, so a folder without it is
an interrupted export. `verify_export` checks it before anything is loaded, so that a corrupt
or partial folder fails with an error naming what is wrong rather than deep in TensorFlow.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import warnings
from pathlib import Path
from typing import Any

from tfrs_mtl._input_files import InputFileError, read_regular_file
from tfrs_mtl._messages import shown

MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 64 << 20
FORMAT = "tfrs_mtl.serving.export"
FORMAT_VERSION = 1
REQUIRED_KEYS = (
    "format",
    "format_version",
    "created_at",
    "versions",
    "model_config",
    "index_config",
    "built_index_config",
    "fingerprints",
    "catalogue",
    "query_features",
    "ranking_task_names",
    "files",
)


class ExportError(RuntimeError):
    """An export folder is missing, partial, corrupt, or needs something not installed."""


def package_versions() -> dict[str, str | None]:
    """Versions of Python and of the pinned stack (None where a package is not installed)."""
    from tfrs_mtl import __version__

    versions: dict[str, str | None] = {"tfrs_mtl": __version__, "python": platform.python_version()}
    for key, distribution in (
        ("tensorflow", "tensorflow"),
        ("tf_keras", "tf-keras"),
        ("tensorflow_recommenders", "tensorflow-recommenders"),
        ("scann", "scann"),
    ):
        try:
            versions[key] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            versions[key] = None
    return versions


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_files(folder: Path) -> list[dict[str, Any]]:
    """Every file of `folder` but the manifest: relative path, size in bytes, sha256."""
    return [
        {
            "path": file.relative_to(folder).as_posix(),
            "size": file.stat().st_size,
            "sha256": sha256_of(file),
        }
        for file in sorted(folder.rglob("*"))
        if file.is_file() and file.name != MANIFEST_NAME
    ]


def write_manifest(folder: Path, content: dict[str, Any]) -> None:
    """Adds format, creation time and the file list to `content`; writes and fsyncs it."""
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **content,
    }
    from tfrs_mtl.serving.export_content import content_fingerprints

    manifest["content_fingerprints"] = content_fingerprints(folder, manifest)
    manifest["files"] = list_files(folder)
    with (folder / MANIFEST_NAME).open("w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def verify_export(folder: str | Path) -> dict[str, Any]:
    """Reads `folder/manifest.json` and checks it against the folder's files.

    Returns:
        The manifest.

    Raises:
        ExportError: naming the missing folder or manifest, the JSON error, the missing
            manifest keys, an unsupported format version, every missing, resized or
            changed file (expected vs found), or fingerprints recomputed from the content
            (index, vocabulary tables) that differ from the manifest's (`export_content`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportError(f"{folder}: no such export folder")
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        raise ExportError(
            f"{folder}: {MANIFEST_NAME} is missing: not a tfrs_mtl export, or the export was "
            "interrupted before it finished"
        )
    try:
        manifest = json.loads(read_regular_file(manifest_path, max_bytes=MAX_MANIFEST_BYTES))
    except InputFileError as error:
        raise ExportError(f"{manifest_path}: cannot read the manifest: {error.problem}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise ExportError(f"{manifest_path}: not valid JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise ExportError(f"{manifest_path}: expected a JSON object, got {type(manifest).__name__}")
    missing_keys = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing_keys:
        raise ExportError(f"{manifest_path}: missing key(s) {missing_keys}")
    if manifest["format"] != FORMAT or manifest["format_version"] != FORMAT_VERSION:
        raise ExportError(
            f"{manifest_path}: format {manifest['format']!r} version "
            f"{manifest['format_version']!r} is not supported; this tfrs_mtl reads {FORMAT!r} "
            f"version {FORMAT_VERSION}"
        )
    _check_versions(folder, manifest_path, manifest["versions"])
    problems = _file_problems(folder, manifest["files"])
    if problems:
        raise ExportError(
            f"{folder}: the export is corrupt or partial:\n  " + "\n  ".join(problems)
        )
    from tfrs_mtl.serving.export_content import content_problems

    mismatches = content_problems(folder, manifest)
    if mismatches:
        raise ExportError(
            f"{folder}: the export's content does not match its manifest (files swapped in "
            "from another export?):\n  " + "\n  ".join(mismatches)
        )
    return manifest


def _file_problems(folder: Path, files: Any) -> list[str]:
    if not isinstance(files, list) or not all(
        isinstance(entry, dict) and {"path", "size", "sha256"} <= set(entry) for entry in files
    ):
        return ["manifest 'files' must be a list of {path, size, sha256}"]
    listed = {entry["path"] for entry in files}
    problems = [
        f"{required}: not listed in the manifest"
        for required in ("saved_model.pb", "variables/variables.index")
        if required not in listed
    ]
    for entry in files:
        file = folder / entry["path"]
        if not file.is_file():
            problems.append(f"{entry['path']}: missing")
        elif file.stat().st_size != entry["size"]:
            problems.append(
                f"{entry['path']}: size {file.stat().st_size} bytes, expected {entry['size']}"
            )
        elif sha256_of(file) != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 differs from the manifest (file changed)")
    return problems


def _major(version: Any) -> int | None:
    """The major number of a version string (`"0.1.0"` -> 0), or None if it has none."""
    head = version.split(".", 1)[0] if isinstance(version, str) else ""
    return int(head) if head.isascii() and head.isdigit() and len(head) < 6 else None


def _check_versions(folder: Path, manifest_path: Path, exported: Any) -> None:
    """Refuses an export from another major version of tfrs_mtl (its format may differ);
    warns, naming both versions, when tfrs_mtl or a package of the stack differs."""
    if not isinstance(exported, dict) or not all(
        isinstance(value, str | None) for value in exported.values()
    ):
        raise ExportError(f"{manifest_path}: 'versions' must map package names to version text")
    current = package_versions()
    made_by, running = exported.get("tfrs_mtl"), current["tfrs_mtl"]
    if made_by is None:
        raise ExportError(f"{manifest_path}: 'versions' does not name the tfrs_mtl version")
    if made_by != running and (_major(made_by) is None or _major(made_by) != _major(running)):
        raise ExportError(
            f"{folder} was exported by tfrs_mtl {shown(made_by)}; this is tfrs_mtl {running}, "
            "another major version, which cannot read it: export the model again with this one"
        )
    drift = [
        f"{name} {shown(exported.get(name))} -> {current[name]}"
        for name in ("tfrs_mtl", "tensorflow", "tensorflow_recommenders", "scann")
        if exported.get(name) and current[name] and exported.get(name) != current[name]
    ]
    if drift:
        warnings.warn(
            f"{folder} was exported with other package versions ({', '.join(drift)}); "
            "results may differ",
            stacklevel=4,
        )
