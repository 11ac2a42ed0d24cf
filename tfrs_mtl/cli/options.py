"""Options shared by several commands."""

from __future__ import annotations

from typing import NoReturn

import click

from tfrs_mtl.data.registry import DATASET_NAMES

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


def fail(message: str) -> NoReturn:
    """Prints `message` on stderr as `Error: ...` and exits with status 1."""
    raise click.ClickException(message)
