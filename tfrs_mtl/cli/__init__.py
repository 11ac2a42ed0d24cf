"""The `tfrs-mtl` command line: a thin user of the public API.

Each command group lives in its own module and imports heavy libraries (TensorFlow, pandas)
only when it runs, so that `tfrs-mtl --help` answers at once.
"""

from __future__ import annotations

import click

import tfrs_mtl
from tfrs_mtl.cli.data_commands import data


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(tfrs_mtl.__version__, prog_name="tfrs-mtl")
def main() -> None:
    """Multi-task recommendation on TensorFlow Recommenders: data, training, serving."""


main.add_command(data)

__all__ = ["main"]
