"""`tfrs-mtl data describe|validate`."""

from __future__ import annotations

import json
import sys

import click

from tfrs_mtl.cli.options import data_dir_option, dataset_option, fail


@click.group()
def data() -> None:
    """Read, describe and validate datasets."""


@data.command()
@dataset_option
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="Drop malformed rows (and say how many and why) instead of stopping at the first.",
)
def describe(dataset: str, data_dir: str | None, as_json: bool, skip_bad_rows: bool) -> None:
    """Counts, sparsity, the rating histogram and top genres or categories of a dataset.

    The JSON holds num_ratings (or num_events), num_users, num_items and sparsity.
    """
    from tfrs_mtl.data import DataError, DataNotFoundError, describe_dataset
    from tfrs_mtl.data.describe import format_description
    from tfrs_mtl.data.registry import load_dataset

    options = (
        {}
        if dataset == "synthetic-ecommerce"
        else {"on_bad_rows": "skip" if skip_bad_rows else "raise"}
    )
    try:
        loaded = load_dataset(dataset, data_dir, **options)
    except (DataError, DataNotFoundError) as error:
        fail(str(error))
    description = describe_dataset(getattr(loaded, "log", loaded))
    if as_json:
        click.echo(json.dumps(description, indent=2, default=str))
    else:
        click.echo(format_description(description))


@data.command()
@dataset_option
@data_dir_option
def validate(dataset: str, data_dir: str | None) -> None:
    """Checks every row of a dataset; exits 1 and says what is wrong where, 0 when all is well."""
    from tfrs_mtl.data import DataError, DataNotFoundError
    from tfrs_mtl.data.registry import validate_dataset

    if dataset == "synthetic-ecommerce":
        fail("synthetic-ecommerce is generated, not read: there is nothing to validate")
    where = data_dir or "$TFRS_MTL_DATA_DIR"
    try:
        report = validate_dataset(dataset, data_dir)
    except (DataError, DataNotFoundError) as error:
        fail(str(error))
    if report.num_rows_dropped:
        click.echo(f"{dataset} ({where}): INVALID: {report.summary()}", err=True)
        for example in report.examples:
            click.echo(f"  {example}", err=True)
        sys.exit(1)
    click.echo(f"{dataset} ({where}): valid: {report.summary()}")
