"""The RetailRocket e-commerce dataset, read into an `EventLog` from either of its two forms.

- **Raw Kaggle form**: `events.csv` with header `timestamp,visitorid,event,itemid,transactionid`
  (timestamps in milliseconds; events `view`, `addtocart`, `transaction`), plus optional
  `item_properties_part1.csv` / `item_properties_part2.csv` (`timestamp,itemid,property,value`;
  an item's latest `categoryid` becomes its `category`) and `category_tree.csv`
  (`categoryid,parentid`, giving `parent_category`).
- **Processed form** (CaseRecommender's filtered release): `view_ecommerce.dat`,
  `add_to_cart_ecommerce.dat`, `purchase_ecommerce.dat`, TAB-separated with header
  `visitorid itemid event`, one file per behaviour and no timestamps.

Behaviours map to canonical names: `view` -> click, `addtocart` -> cart, `transaction` ->
purchase. Data: https://www.kaggle.com/datasets/retailrocket/ecommerce-dataset (CC BY-NC-SA 4.0).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tfrs_mtl.data.errors import DataNotFoundError, OnBadRows, ReadReport, check_on_bad_rows
from tfrs_mtl.data.event_columns import BadValues, ColumnSpec, ParsedColumns, parse_columns
from tfrs_mtl.data.event_csv import read_checked_table, read_events
from tfrs_mtl.data.events import EventLog, find_dataset_dir

RETAILROCKET_NAME = "retailrocket"
RAW_EVENTS_FILE = "events.csv"
ITEM_PROPERTY_FILES: tuple[str, ...] = ("item_properties_part1.csv", "item_properties_part2.csv")
CATEGORY_TREE_FILE = "category_tree.csv"
PROCESSED_FILES: dict[str, str] = {
    "view_ecommerce.dat": "click",
    "add_to_cart_ecommerce.dat": "cart",
    "purchase_ecommerce.dat": "purchase",
}
PROCESSED_COLUMNS: tuple[str, ...] = ("visitorid", "itemid", "event")
RETAILROCKET_BEHAVIORS: dict[str, str] = {
    "view": "click",
    "addtocart": "cart",
    "transaction": "purchase",
}
RETAILROCKET_DOWNLOAD = (
    "Download the archive from https://www.kaggle.com/datasets/retailrocket/ecommerce-dataset "
    "(Kaggle account; CC BY-NC-SA 4.0) and unzip it there; it has no TFDS builder."
)

_RAW_SPEC = ColumnSpec(
    column_map={
        "user_id": "visitorid",
        "item_id": "itemid",
        "behavior": "event",
        "timestamp": "timestamp",
    },
    behavior_map=RETAILROCKET_BEHAVIORS,
    integer_ids=True,
    timestamp_unit="ms",
)


def _integers(
    table: pa.Table, column: str, rows: pa.Array | None, reason: str, max_digits: int = 0
) -> BadValues:
    """Rows (among `rows`, a bool mask; None: all) whose `column` is not a non-negative integer
    (of at most `max_digits` digits when given: the timestamps become int64)."""
    bad = pc.invert(pc.ascii_is_decimal(table.column(column)))
    if max_digits:
        bad = pc.or_(bad, pc.greater(pc.utf8_length(table.column(column)), max_digits))
    if rows is not None:
        bad = pc.and_(bad, rows)
    mask = np.asarray(pc.fill_null(bad, True).to_numpy(zero_copy_only=False), dtype=bool)
    return BadValues(reason, column, mask, "a non-negative integer")


def _read_categories(
    folder: Path, on_bad_rows: OnBadRows, report: ReadReport
) -> pd.DataFrame | None:
    """Each item's latest `categoryid` (and its parent) from the item property files, or None."""
    paths = [folder / name for name in ITEM_PROPERTY_FILES if (folder / name).is_file()]
    if not paths:
        return None

    def check(table: pa.Table) -> tuple[tuple[pa.Table, np.ndarray], list[BadValues]]:
        # Only the category rows matter; the other properties are hashed free text.
        is_category = pc.equal(table.column("property"), "categoryid").combine_chunks()
        problems = [
            _integers(table, "itemid", is_category, "non-integer itemid"),
            _integers(table, "timestamp", is_category, "non-integer timestamp", max_digits=18),
            _integers(table, "value", is_category, "non-integer categoryid"),
        ]
        rows = np.asarray(is_category.to_numpy(zero_copy_only=False), dtype=bool)
        return (table, rows), [problem for problem in problems if problem.rows.any()]

    parts = []
    for path in paths:
        columns = ("timestamp", "itemid", "property", "value")
        (table, rows), keep, part_report = read_checked_table(
            path, columns, check, on_bad_rows=on_bad_rows
        )
        report.merge(part_report)
        chosen = table.filter(pa.array(rows if keep is None else rows & keep))
        parts.append(
            pd.DataFrame(
                {
                    "item_id": pd.Series(chosen.column("itemid"), dtype="str"),
                    "category": pd.Series(chosen.column("value"), dtype="str"),
                    "time": pc.cast(chosen.column("timestamp"), pa.int64()).to_numpy(),
                }
            )
        )
    latest = (
        pd.concat(parts, ignore_index=True)
        .sort_values("time", kind="stable")
        .drop_duplicates("item_id", keep="last")
        .drop(columns="time")
        .sort_values("item_id", kind="stable")
        .reset_index(drop=True)
    )
    tree_path = folder / CATEGORY_TREE_FILE
    if tree_path.is_file():
        latest = latest.merge(_read_category_tree(tree_path, on_bad_rows, report), how="left")
    return latest


def _read_category_tree(path: Path, on_bad_rows: OnBadRows, report: ReadReport) -> pd.DataFrame:
    """`category` -> `parent_category` from `category_tree.csv` (roots have no parent)."""

    def check(table: pa.Table) -> tuple[pa.Table, list[BadValues]]:
        has_parent = pc.not_equal(table.column("parentid"), "").combine_chunks()
        problems = [
            _integers(table, "categoryid", None, "non-integer categoryid"),
            _integers(table, "parentid", has_parent, "non-integer parentid"),
        ]
        return table, [problem for problem in problems if problem.rows.any()]

    table, keep, tree_report = read_checked_table(
        path, ("categoryid", "parentid"), check, on_bad_rows=on_bad_rows
    )
    report.merge(tree_report)
    if keep is not None:
        table = table.filter(pa.array(keep))
    parents = pd.Series(table.column("parentid"), dtype="str")
    return pd.DataFrame(
        {
            "category": pd.Series(table.column("categoryid"), dtype="str"),
            "parent_category": parents.where(parents != ""),
        }
    ).drop_duplicates("category", keep="last")


def _read_processed(folder: Path, on_bad_rows: OnBadRows) -> tuple[pd.DataFrame, ReadReport]:
    frames, report = [], ReadReport()
    for name, behavior in PROCESSED_FILES.items():
        spec = ColumnSpec(
            {"user_id": "visitorid", "item_id": "itemid"},
            default_behavior=behavior,
            integer_ids=True,
        )

        def check(
            table: pa.Table, spec: ColumnSpec = spec
        ) -> tuple[ParsedColumns, list[BadValues]]:
            parsed, problems = parse_columns(table, spec)
            # Each row is one event: the column counts it (1 in the release), never 0 or text.
            counted = pc.match_substring_regex(table.column("event"), r"^0*[1-9][0-9]*$")
            bad = np.asarray(pc.fill_null(pc.invert(counted), True), dtype=bool)
            if bad.any():
                problems.append(
                    BadValues("bad event count", "event", bad, "a positive integer (1 per event)")
                )
            return parsed, problems

        parsed, keep, file_report = read_checked_table(
            folder / name, PROCESSED_COLUMNS, check, delimiter="\t", on_bad_rows=on_bad_rows
        )
        frames.append(parsed.to_frame(keep))
        report.merge(file_report)
    return pd.concat(frames, ignore_index=True), report


def _read_raw(folder: Path, on_bad_rows: OnBadRows) -> tuple[pd.DataFrame, ReadReport]:
    return read_events(folder / RAW_EVENTS_FILE, _RAW_SPEC, on_bad_rows=on_bad_rows)


def load_retailrocket(
    data_dir: str | os.PathLike[str] | None = None, *, on_bad_rows: OnBadRows = "raise"
) -> EventLog:
    """Reads RetailRocket events from the raw Kaggle form or the processed three-file form.

    The form is detected from the folder: `events.csv` means the raw form (with timestamps and,
    when the item property files are there, an `items` catalogue with `category`); otherwise
    the three `*_ecommerce.dat` files of the processed form (no timestamps, `items=None`).

    Args:
        data_dir: the dataset folder; None looks in `$TFRS_MTL_DATA_DIR/retailrocket`.
        on_bad_rows: `"raise"` a `DataError` at the first bad row, or `"skip"` bad rows
            (counted in `report`, one `UserWarning`).

    Returns:
        an `EventLog` named `"retailrocket"`.

    Raises:
        DataNotFoundError: no folder, or a folder with neither form, naming what was expected.
        DataError: a malformed file or bad value under `"raise"`.

    Example:
        >>> log = load_retailrocket()  # doctest: +SKIP
        >>> log.events["behavior"].value_counts()["purchase"]  # doctest: +SKIP
    """
    check_on_bad_rows(on_bad_rows)
    expected = f"{RAW_EVENTS_FILE} (raw Kaggle form) or {', '.join(PROCESSED_FILES)}"
    folder = find_dataset_dir(
        RETAILROCKET_NAME, data_dir, expected=expected, download_hint=RETAILROCKET_DOWNLOAD
    )
    items = None
    if (folder / RAW_EVENTS_FILE).is_file():
        path = folder / RAW_EVENTS_FILE
        events, report = _read_raw(folder, on_bad_rows)
        items = _read_categories(folder, on_bad_rows, report)
    else:
        missing = [name for name in PROCESSED_FILES if not (folder / name).is_file()]
        if missing:
            raise DataNotFoundError(
                f"{RETAILROCKET_NAME}: {folder} has no {RAW_EVENTS_FILE} and lacks {missing}; "
                f"expected {expected}. {RETAILROCKET_DOWNLOAD}"
            )
        path = folder
        events, report = _read_processed(folder, on_bad_rows)
    report.warn_if_dropped(str(path))
    return EventLog(RETAILROCKET_NAME, events, items, str(path), report)
