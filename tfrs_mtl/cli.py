"""The `tfrs-mtl` command line. A thin user of the public API."""

from __future__ import annotations

import click

import tfrs_mtl


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(tfrs_mtl.__version__, prog_name="tfrs-mtl")
def main() -> None:
    """Multi-task recommendation on TensorFlow Recommenders: data, training, serving."""


@main.group()
def data() -> None:
    """Read, describe and validate datasets."""
