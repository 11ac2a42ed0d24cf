"""The `tfrs-mtl` command line: a thin user of the public API.

Each command group lives in its own module and imports heavy libraries (TensorFlow, pandas)
only when it runs, so that `tfrs-mtl --help` answers at once.
"""

from __future__ import annotations

import os

import click

import tfrs_mtl
from tfrs_mtl.cli.attribute_command import complete_attributes_command
from tfrs_mtl.cli.command_group import CommandGroup
from tfrs_mtl.cli.data_commands import data
from tfrs_mtl.cli.quickstart_command import quickstart
from tfrs_mtl.cli.serve_commands import export, recommend
from tfrs_mtl.cli.train_commands import cv, evaluate, train
from tfrs_mtl.cli.tune_command import tune


@click.group(
    cls=CommandGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(tfrs_mtl.__version__, prog_name="tfrs-mtl")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Show TensorFlow's and ScaNN's own log lines (hidden by default; TFRS_MTL_VERBOSE=1 "
    "does the same).",
)
def main(verbose: bool) -> None:
    """Multi-task recommendation on TensorFlow Recommenders: data, training, serving."""
    if verbose:
        # Before any command imports TensorFlow (`import tfrs_mtl` hid its C++ notices).
        os.environ["TFRS_MTL_VERBOSE"] = "1"
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"


main.add_command(data)
main.add_command(train)
main.add_command(evaluate)
main.add_command(cv)
main.add_command(export)
main.add_command(recommend)
main.add_command(quickstart)
main.add_command(tune)
main.add_command(complete_attributes_command)

__all__ = ["main"]
