"""E-commerce event logs in one canonical schema, whatever file they came from.

Every e-commerce reader (`load_taobao`, `load_retailrocket`, `read_event_table`) and the
synthetic generator return an `EventLog` whose `events` frame has these columns:

| column | dtype | notes |
| --- | --- | --- |
| `user_id` | `str` | the id as written in the source |
| `item_id` | `str` | the id as written in the source |
| `behavior` | `category`, categories exactly `BEHAVIORS` | mapped, e.g. Taobao `pv` -> `click` |
| `timestamp` | `int64` unix seconds | absent when the source has no time |
| `category`, `brand` | `str` | optional item attributes given per event |
| `price` | `float32` | optional, finite and >= 0 |

Item attributes that come as a catalogue rather than per event (RetailRocket's item properties,
the synthetic generator's items) live in `EventLog.items`, one row per `item_id`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tfrs_mtl._input_files import folder_problem
from tfrs_mtl.data.errors import DataNotFoundError, ReadReport

BEHAVIORS: tuple[str, ...] = ("click", "cart", "favorite", "purchase")
"""Canonical behaviour names, shallowest first along the e-commerce funnel."""

BEHAVIOR_DTYPE = pd.CategoricalDtype(categories=list(BEHAVIORS), ordered=False)

ITEM_ATTRIBUTES: tuple[str, ...] = ("category", "brand", "price")
"""Optional item attribute columns an `EventLog` may carry."""

DATA_DIR_ENV = "TFRS_MTL_DATA_DIR"


@dataclasses.dataclass(frozen=True, eq=False)
class EventLog:
    """A log of user-item events in the canonical schema (see the module docstring).

    Attributes:
        name: dataset name, e.g. `"taobao-userbehavior"`.
        events: one row per event, canonical columns.
        items: item catalogue (`item_id` plus attribute columns, unique `item_id`), or None.
        source: where the events came from (a path, or `"synthetic(seed=0)"`).
        report: rows read and dropped while reading.

    Example:
        >>> log = load_taobao("/data/taobao-userbehavior")  # doctest: +SKIP
        >>> log.events["behavior"].value_counts()  # doctest: +SKIP
    """

    name: str
    events: pd.DataFrame
    items: pd.DataFrame | None
    source: str
    report: ReadReport

    def __post_init__(self) -> None:
        missing = [c for c in ("user_id", "item_id", "behavior") if c not in self.events]
        if missing:
            raise ValueError(f"EventLog {self.name!r}: events lack columns {missing}")
        dtype = self.events["behavior"].dtype
        # Unordered categoricals compare equal whatever the order of their categories; the
        # codes only mean BEHAVIORS' indices when the order is the same too.
        if not isinstance(dtype, pd.CategoricalDtype) or list(dtype.categories) != list(BEHAVIORS):
            raise ValueError(
                f"EventLog {self.name!r}: behavior dtype is {self.events['behavior'].dtype}; "
                f"expected a categorical with categories {BEHAVIORS}"
            )
        if self.items is not None and "item_id" not in self.items:
            raise ValueError(f"EventLog {self.name!r}: items lack an 'item_id' column")

    @property
    def has_timestamps(self) -> bool:
        """Whether the events carry a known time (a `timestamp` column with a value)."""
        return "timestamp" in self.events and bool(self.events["timestamp"].notna().any())

    def item_attributes(self) -> pd.DataFrame:
        """One row per item with every known attribute column (possibly none).

        The catalogue in `items` wins; attributes given per event fill in the rest, taking
        the last event's value for an item (Taobao items almost always keep one category).

        Returns:
            a frame with a unique `item_id` column and zero or more attribute columns.
        """
        event_columns = [c for c in ITEM_ATTRIBUTES if c in self.events]
        if self.items is not None and not event_columns:
            return self.items
        from_events = (
            self.events[["item_id", *event_columns]]
            .drop_duplicates("item_id", keep="last")
            .reset_index(drop=True)
        )
        if self.items is None:
            return from_events
        catalogue = self.items
        extra = [c for c in event_columns if c not in catalogue]
        if extra:
            catalogue = catalogue.merge(from_events[["item_id", *extra]], on="item_id", how="outer")
        unseen = from_events[~is_in(from_events["item_id"], catalogue["item_id"])]
        if len(unseen):
            catalogue = pd.concat([catalogue, unseen], ignore_index=True)
        return catalogue.reset_index(drop=True)


def is_in(values: pd.Series, candidates: pd.Series) -> np.ndarray:
    """`[len(values)]` bool: whether each value is among `candidates`, via Arrow.

    pandas' `isin` on `str` columns loops in Python; Arrow's hash kernel does not.
    """
    array = _arrow(values)
    found = pc.is_in(array, value_set=_arrow(candidates).cast(array.type))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def make_events_frame(
    user_id: Any,
    item_id: Any,
    behavior_codes: np.ndarray,
    *,
    timestamp: np.ndarray | None = None,
    attributes: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Assembles a canonical events frame from column arrays.

    Args:
        user_id: `[num_events]` strings (a pyarrow string array or anything `pd.Series` takes).
        item_id: `[num_events]` strings.
        behavior_codes: `[num_events]` integer indices into `BEHAVIORS`.
        timestamp: `[num_events]` int64 unix seconds, or None when unknown.
        attributes: optional `category`/`brand` (strings) and `price` (float) columns.

    Returns:
        the events frame with canonical dtypes.
    """
    columns: dict[str, Any] = {
        "user_id": pd.Series(user_id, dtype="str"),
        "item_id": pd.Series(item_id, dtype="str"),
        "behavior": pd.Categorical.from_codes(
            np.asarray(behavior_codes, dtype=np.int8), dtype=BEHAVIOR_DTYPE
        ),
    }
    if timestamp is not None:
        columns["timestamp"] = np.asarray(timestamp, dtype=np.int64)
    for name, values in (attributes or {}).items():
        if name == "price":
            columns[name] = np.asarray(values, dtype=np.float32)
        else:
            columns[name] = pd.Series(values, dtype="str")
    frame = pd.DataFrame({k: pd.Series(v).reset_index(drop=True) for k, v in columns.items()})
    return frame


def _arrow(series: pd.Series) -> pa.Array:
    array = pa.array(series)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _codes(ids: pd.Series) -> tuple[np.ndarray, int]:
    """`[n]` int64 codes of `ids` (in order of appearance) and the number of distinct ids."""
    encoded = pc.dictionary_encode(_arrow(ids))
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(encoded.dictionary)


def describe_event_log(log: EventLog, *, num_top_categories: int = 10) -> dict[str, Any]:
    """Summary statistics of an event log, for `tfrs-mtl data describe`.

    Returns:
        a JSON-ready dict: `name`, `source`, `num_events`, `num_users`, `num_items`,
        `num_pairs` (distinct user-item pairs), `sparsity` (1 - pairs / (users * items)),
        `events_per_behavior`, `time_range` (first and last unix second, or None) and
        `top_categories` (`[[category, num_events], ...]`, most frequent first, or None).
    """
    events = log.events
    user_codes, num_users = _codes(events["user_id"])
    item_codes, num_items = _codes(events["item_id"])
    pairs = np.sort(user_codes * max(num_items, 1) + item_codes)
    num_pairs = int(np.count_nonzero(pairs[1:] != pairs[:-1]) + 1) if pairs.size else 0
    cells = num_users * num_items
    counts = events["behavior"].value_counts()
    time_range = None
    if log.has_timestamps:
        stamps = events["timestamp"]
        time_range = [int(stamps.min()), int(stamps.max())]
    top_categories = None
    if "category" in events:
        per_category = events["category"].value_counts()
    else:
        attributes = log.item_attributes()
        per_category = None
        if "category" in attributes:
            # Count events per item first: a join of every event would cost far more.
            per_item = events["item_id"].value_counts().rename("num_events")
            joined = attributes[["item_id", "category"]].merge(
                per_item, left_on="item_id", right_index=True
            )
            per_category = joined.groupby("category")["num_events"].sum()
            per_category = per_category.sort_values(ascending=False, kind="stable")
    if per_category is not None:
        top = per_category.head(num_top_categories)
        top_categories = [[str(name), int(count)] for name, count in top.items()]
    return {
        "name": log.name,
        "source": log.source,
        "num_events": len(events),
        "num_users": num_users,
        "num_items": num_items,
        "num_pairs": num_pairs,
        "sparsity": 1.0 - num_pairs / cells if cells else 0.0,
        "events_per_behavior": {name: int(counts.get(name, 0)) for name in BEHAVIORS},
        "time_range": time_range,
        "top_categories": top_categories,
    }


def find_dataset_dir(
    folder_name: str,
    data_dir: str | os.PathLike[str] | None,
    *,
    expected: str,
    download_hint: str,
) -> Path:
    """Finds a dataset folder: `data_dir` if given, else `$TFRS_MTL_DATA_DIR/<folder_name>`.

    Args:
        folder_name: the dataset's official folder name, e.g. `"retailrocket"`.
        data_dir: an explicit folder, or None to look under `$TFRS_MTL_DATA_DIR`.
        expected: the files the reader looks for, as the error should name them.
        download_hint: where and how to get the data, named in the error.

    Raises:
        DataNotFoundError: naming both options and the download hint.
    """
    files = expected
    if data_dir is not None:
        path = Path(data_dir)
        problem = folder_problem(path)
        if problem is None:
            return path
        raise DataNotFoundError(
            f"{folder_name}: data_dir={str(path)!r} is not a folder ({problem}); expected a "
            f"folder holding {files}. {download_hint}"
        )
    root = os.environ.get(DATA_DIR_ENV)
    if root and (Path(root) / folder_name).is_dir():
        return Path(root) / folder_name
    where = (
        f"${DATA_DIR_ENV}={root!r} has no {folder_name}/ folder"
        if root
        else f"${DATA_DIR_ENV} is not set"
    )
    raise DataNotFoundError(
        f"{folder_name}: no data found ({where}). Either pass data_dir=<folder holding {files}> "
        f"or set ${DATA_DIR_ENV} to a folder holding {folder_name}/. {download_hint}"
    )
