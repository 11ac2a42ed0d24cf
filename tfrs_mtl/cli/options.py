"""Options shared by several commands."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from tfrs_mtl._atomic_files import UnsafeOutputPathError, refuse_links_inside
from tfrs_mtl._input_files import InputFileError, read_regular_file
from tfrs_mtl.data.registry import DATASET_NAMES

F = TypeVar("F", bound=Callable[..., Any])

dataset_option = click.option(
    "--dataset",
    "dataset",
    type=click.Choice(DATASET_NAMES),
    default="movielens-100k",
    show_default=True,
    help="Which dataset to read.",
)

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=True, dir_okay=True, path_type=str),
    default=None,
    help="The dataset's own folder (or its official zip). Default: "
    "$TFRS_MTL_DATA_DIR/<official folder name>, then TFDS for MovieLens.",
)


def model_folder_option(parameter: str, help: str) -> Callable[[F], F]:
    """`--model FOLDER` (required, an existing folder) passed to the command as `parameter`."""
    return click.option(
        "--model",
        parameter,
        required=True,
        type=click.Path(exists=True, file_okay=False, path_type=str),
        help=help,
    )


class FiniteFloatRange(click.FloatRange):
    """A `click.FloatRange` that also refuses NaN and the infinities (NaN passes every range
    comparison, and an infinite weight would train or serve NaN scores)."""

    name = "finite float range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def fail(message: str) -> NoReturn:
    """Prints `message` on stderr as `Error: ...` and exits with status 1."""
    raise click.ClickException(message)


def read_id_lines(path: str, option: str) -> list[str]:
    """The ids of a text file, one a line (UTF-8, a BOM allowed; blank and `#` lines
    skipped). Fails naming the option and the file: not a regular file, not UTF-8, empty."""
    try:
        raw = read_regular_file(path)
    except InputFileError as error:
        fail(f"{option} {error}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        fail(f"{option} {path}, line {line}: not UTF-8 text (byte {raw[error.start]:#04x})")
    ids = [line.strip() for line in text.splitlines()]
    ids = [value for value in ids if value and not value.startswith("#")]
    if not ids:
        fail(f"{option} {path}: no ids (one per line)")
    return ids


def output_path(path: str, option: str, *, is_file: bool = False) -> Path:
    """`path` given to an output option, checked by the output-path rule (see
    `tfrs_mtl._atomic_files`): a relative path may not climb out of the working folder; a
    file output may not be an existing symbolic link (the folder around it is the user's
    and is not searched); a folder output may hold no link.

    Fails (`Error: ...`, exit 1) naming the option otherwise.
    """
    candidate = Path(path)
    if not candidate.is_absolute():
        resolved = (Path.cwd() / candidate).resolve()
        if not resolved.is_relative_to(Path.cwd().resolve()):
            fail(
                f"{option} {path!r} escapes the working folder; give an absolute path or one "
                "inside the current folder"
            )
    if is_file and candidate.is_symlink():
        fail(
            f"{option} {path!r} is a symbolic link (to {candidate.readlink()}); tfrs_mtl "
            "does not write through links: remove it or choose another file"
        )
    if is_file:
        return candidate
    try:
        refuse_links_inside(candidate)
    except UnsafeOutputPathError as error:
        fail(f"{option}: {error}")
    return candidate
