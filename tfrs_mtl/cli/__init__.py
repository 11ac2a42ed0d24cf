"""The `tfrs-mtl` command line: a thin user of the public API.

Each command group lives in its own module and imports heavy libraries (TensorFlow, pandas)
only when it runs, so that `tfrs-mtl --help` answers at once.
"""

from __future__ import annotations

import os

import click

import tfrs_mtl
from tfrs_mtl.cli.command_group import CommandGroup
from tfrs_mtl.cli.data_commands import data
from tfrs_mtl.cli.quickstart_command import quickstart
from tfrs_mtl.cli.serve_commands import export, recommend
from tfrs_mtl.cli.train_commands import cv, evaluate, train


@click.group(
    cls=CommandGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(tfrs_mtl.__version__, prog_name="tfrs-mtl")
def main() -> None:
    """Multi-task recommendation on TensorFlow Recommenders: data, training, serving."""
    # TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notes) buries the output of
    # every command; an explicit setting in the environment still wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


main.add_command(data)
main.add_command(train)
main.add_command(evaluate)
main.add_command(cv)
main.add_command(export)
main.add_command(recommend)
main.add_command(quickstart)

__all__ = ["main"]
