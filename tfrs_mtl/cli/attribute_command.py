"""`tfrs-mtl complete-attributes`: an item table's missing attributes filled by the model."""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import click

from tfrs_mtl._input_files import file_problem
from tfrs_mtl.cli.options import fail, model_folder_option
from tfrs_mtl.cli.output_files import checked_output_file, write_output_file

#: How a list value (genres) is written in a CSV cell, and read from one.
LIST_SEPARATOR = "|"


@click.command("complete-attributes")
@model_folder_option(
    "model_dir", "A run folder (from `tfrs-mtl train`) or a model folder (`save_model`)."
)
@click.option(
    "--items",
    "items_path",
    required=True,
    type=click.Path(path_type=str),
    help="CSV or Parquet item table: the item id column and attribute columns (category, "
    "brand, price, genres, ...); an empty cell is completed. A list column (genres) is a "
    "Parquet list, or '|'-separated in CSV.",
)
@click.option(
    "--output",
    required=True,
    type=click.Path(path_type=str),
    help="The completed table: .csv (lists '|'-separated) or .jsonl.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing --output file.")
def complete_attributes_command(
    model_dir: str, items_path: str, output: str, overwrite: bool
) -> None:
    """Fills an item table's missing attributes from the labelled items closest to each one
    in the model's item space (the completion `--attribute-holdout` scores).

    An item the run's catalogue lacks (a new product) is placed by the features the
    candidate tower reads (the shop's brand), which the table must then hold; its
    neighbours are the labelled items of the same brand where there are any.
    Per column: a number (price) is the neighbours' weighted mean, a class (category,
    brand) the one with the most weight, a list (genres) the classes holding more than half
    of it. The output adds `<column>_completed` (true where filled) and, for a class,
    `<column>_share` (the completed class's share of the weight).

    Example: tfrs-mtl complete-attributes --model runs/shop --items items.csv
    --output completed.csv
    """
    import numpy as np
    import pandas as pd

    from tfrs_mtl.cli.serve_commands import load_run_model
    from tfrs_mtl.experiments.attribute_predictions import attribute_kinds, complete_attributes

    target = checked_output_file(output, "--output", overwrite=overwrite)
    problem = file_problem(items_path)
    if problem is not None:
        fail(f"--items {items_path}: {problem}")
    suffix = Path(items_path).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        fail(f"--items {items_path}: expected a .csv or .parquet file, got {suffix!r}")
    model, catalogue = load_run_model(model_dir)
    id_column = model.candidate_id_feature
    list_columns = {column for column, kind in attribute_kinds(model).items() if kind == "classes"}
    if suffix == ".csv":
        items = pd.read_csv(items_path, dtype={id_column: str})
        for column in list_columns & set(items.columns):
            items[column] = [_split(value) for value in items[column]]
    else:
        items = pd.read_parquet(items_path)
        for column in list_columns & set(items.columns):
            items[column] = [[] if value is None else list(value) for value in items[column]]
    try:
        completed = complete_attributes(model, catalogue, items)
    except ValueError as error:
        fail(f"--items {items_path}: {error}")
    if target.suffix.lower() == ".csv":
        shown = completed.copy()
        for column in shown.columns:
            if any(isinstance(value, list) for value in shown[column]):
                shown[column] = [
                    LIST_SEPARATOR.join(map(str, value)) if isinstance(value, list) else value
                    for value in shown[column]
                ]
        text = shown.to_csv(index=False)
    else:
        text = "".join(
            json.dumps(_plain(row)) + "\n" for row in completed.to_dict(orient="records")
        )
    write_output_file(target, text, "--output")
    filled = {
        column.removesuffix("_completed"): int(completed[column].sum())
        for column in completed.columns
        if column.endswith("_completed") and completed[column].dtype == bool
    }
    counts = ", ".join(f"{column} {count}" for column, count in filled.items())
    known = set(np.asarray(catalogue[id_column]).astype(str))
    new = sum(item not in known for item in items[id_column].astype(str))
    placed = f"; {new} new, placed by their features" if new else ""
    click.echo(f"completed {len(completed)} items ({counts} values filled{placed}) -> {target}")


def _split(value: Any) -> list[str]:
    """A CSV cell of a list column -> its values (an empty cell: none)."""
    if not isinstance(value, str) or not value:
        return []
    return value.split(LIST_SEPARATOR)


def _plain(row: Mapping[Hashable, Any]) -> dict[str, Any]:
    """A record with numpy scalars as Python values and NaN as null, for JSON."""
    plain: dict[str, Any] = {}
    for key, value in row.items():
        if hasattr(value, "item") and not isinstance(value, list):
            value = value.item()
        if isinstance(value, float) and value != value:
            value = None
        plain[str(key)] = value
    return plain
