"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from tfrs_mtl._atomic_files import UnsafeOutputPathError, refuse_links_inside
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


def fail(message: str) -> NoReturn:
    """Prints `message` on stderr as `Error: ...` and exits with status 1."""
    raise click.ClickException(message)


def output_path(path: str, option: str, *, is_file: bool = False) -> Path:
    """`path` given to an output option, checked by the output-path rule (see
    `tfrs_mtl._atomic_files`): a relative path may not climb out of the working folder; a
    file output may not be an existing symbolic link; a folder output may hold no link.

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
    try:
        refuse_links_inside(candidate if not is_file else candidate.parent)
    except UnsafeOutputPathError as error:
        fail(f"{option}: {error}")
    return candidate
