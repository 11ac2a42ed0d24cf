"""`tfrs-mtl complete-attributes` on a finished run: a CSV or Parquet item table in, the
completed table out (CSV or JSON lines), refusals in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tfrs_mtl.cli import main
from tfrs_mtl.cli.attribute_command import _split
from tfrs_mtl.models import Catalogue


def _items(run: Path) -> pd.DataFrame:
    """Every catalogue item, a category and a price for the even rows, none for the odd."""
    ids = Catalogue.load(run / "item_catalogue.npz").features["item_id"].astype(str)
    labelled = np.arange(len(ids)) % 2 == 0
    return pd.DataFrame(
        {
            "item_id": ids,
            "category": np.where(labelled, np.where(np.arange(len(ids)) % 4 == 0, "a", "b"), ""),
            "price": np.where(labelled, np.arange(len(ids), dtype=float) + 1.0, np.nan),
        }
    )


def test_a_csv_table_is_completed_and_written_as_csv_and_json_lines(
    tiny_run: Path, tmp_path: Path
) -> None:
    table = _items(tiny_run)
    source = tmp_path / "items.csv"
    table.to_csv(source, index=False)
    target = tmp_path / "out" / "completed.csv"
    arguments = ["complete-attributes", "--model", str(tiny_run), "--items", str(source)]
    result = CliRunner().invoke(main, [*arguments, "--output", str(target)])
    assert result.exit_code == 0, result.output
    odd = len(table) // 2
    assert f"category {odd}, price {odd}" in result.output
    completed = pd.read_csv(target, dtype={"item_id": str})
    assert completed["item_id"].tolist() == table["item_id"].tolist()
    assert set(completed["category"]) <= {"a", "b"} and completed["price"].notna().all()
    assert completed["category_completed"].tolist() == (table["category"] == "").tolist()
    # Filled prices are weighted means of the labelled ones: within their range.
    assert completed["price"].between(table["price"].min(), table["price"].max()).all()
    again = CliRunner().invoke(main, [*arguments, "--output", str(target)])
    assert again.exit_code != 0 and "--overwrite" in again.output
    parquet = tmp_path / "items.parquet"
    table.assign(category=table["category"].replace("", None)).to_parquet(parquet)
    lines = tmp_path / "completed.jsonl"
    result = CliRunner().invoke(main, [*arguments[:-1], str(parquet), "--output", str(lines)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert len(records) == len(table) and records[0]["category_share"] is None
    assert all(record["category"] in ("a", "b") for record in records)


def test_an_unknown_item_or_file_is_refused_in_one_line(tiny_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "items.csv"
    _items(tiny_run).assign(item_id="no-such-item").head(1).to_csv(source, index=False)
    arguments = ["complete-attributes", "--model", str(tiny_run), "--output"]
    result = CliRunner().invoke(main, [*arguments, str(tmp_path / "o.csv"), "--items", str(source)])
    assert result.exit_code != 0 and "not in the catalogue" in result.output
    assert "the features the candidate tower reads" in result.output
    assert len(result.output.strip().splitlines()) == 1
    absent = CliRunner().invoke(
        main, [*arguments, str(tmp_path / "o.csv"), "--items", str(tmp_path / "none.csv")]
    )
    assert absent.exit_code != 0 and "--items" in absent.output
    export = [*arguments[:2], str(tiny_run / "export"), *arguments[3:]]
    from_export = CliRunner().invoke(
        main, [*export, str(tmp_path / "o.csv"), "--items", str(source)]
    )
    assert from_export.exit_code != 0 and "an export folder" in from_export.output
    assert "the run folder that wrote it" in from_export.output
    assert not (tmp_path / "o.csv").exists()


def test_a_csv_list_cell_is_split_on_the_separator() -> None:
    assert _split("Drama|Comedy") == ["Drama", "Comedy"]
    assert _split("") == [] and _split(float("nan")) == []


def test_a_new_item_in_a_csv_is_completed_from_its_brand(tiny_run: Path, tmp_path: Path) -> None:
    features = Catalogue.load(tiny_run / "item_catalogue.npz").features
    table = _items(tiny_run)
    table["brand"] = features["brand"].astype(str)  # read back from CSV as integers
    new = {"item_id": "new-product", "category": "", "price": np.nan, "brand": table["brand"][0]}
    # An id that begins with the longest catalogue id is a new id too, placed the same way.
    longest = max(table["item_id"], key=len)
    twin = {**new, "item_id": f"{longest}-new"}
    source = tmp_path / "items.csv"
    pd.concat([table, pd.DataFrame([new, twin])], ignore_index=True).to_csv(source, index=False)
    target = tmp_path / "completed.csv"
    arguments = ["--model", str(tiny_run), "--items", str(source), "--output", str(target)]
    result = CliRunner().invoke(main, ["complete-attributes", *arguments])
    assert result.exit_code == 0, result.output
    assert "2 new, placed by their features" in result.output
    completed = pd.read_csv(target, dtype={"item_id": str}).set_index("item_id")
    assert completed.loc["new-product", "category"] in ("a", "b")
    assert completed.loc["new-product", "category_completed"]
    assert np.isfinite(completed.loc["new-product", "price"])
    twin_row, new_row = completed.loc[f"{longest}-new"], completed.loc["new-product"]
    assert twin_row["category"] == new_row["category"]
    assert twin_row["price"] == pytest.approx(new_row["price"], rel=1e-5)
