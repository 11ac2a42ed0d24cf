"""EventLog schema, item attributes, describe_event_log and find_dataset_dir."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.data.errors import DataNotFoundError, ReadReport
from tfrs_mtl.data.events import (
    BEHAVIORS,
    EventLog,
    describe_event_log,
    find_dataset_dir,
    is_in,
    make_events_frame,
)


def _log(items: pd.DataFrame | None = None, **columns: object) -> EventLog:
    events = make_events_frame(
        ["u1", "u1", "u2", "u3"],
        ["a", "b", "a", "c"],
        np.array([0, 3, 0, 1]),
        timestamp=np.array([10, 20, 5, 7]),
        attributes=columns or None,
    )
    return EventLog("toy", events, items, "memory", ReadReport(num_rows_read=4))


def test_make_events_frame_has_canonical_dtypes() -> None:
    events = _log(category=["x", "y", "x", None], price=[1.5, 2.0, 1.5, 3.0]).events
    assert list(events.columns) == [
        "user_id",
        "item_id",
        "behavior",
        "timestamp",
        "category",
        "price",
    ]
    assert events["user_id"].dtype == "str"
    assert list(events["behavior"].cat.categories) == list(BEHAVIORS)
    assert events["behavior"].tolist() == ["click", "purchase", "click", "cart"]
    assert events["timestamp"].dtype == np.int64
    assert events["price"].dtype == np.float32


def test_event_log_rejects_a_non_canonical_behavior_column() -> None:
    events = pd.DataFrame({"user_id": ["u"], "item_id": ["i"], "behavior": ["pv"]})
    with pytest.raises(ValueError, match="behavior dtype is"):
        EventLog("bad", events, None, "memory", ReadReport())
    reordered = pd.CategoricalDtype(list(reversed(BEHAVIORS)))
    events["behavior"] = pd.Series(["click"], dtype=reordered)
    with pytest.raises(ValueError, match="behavior dtype is"):
        EventLog("bad", events, None, "memory", ReadReport())


def test_item_attributes_prefers_the_catalogue_and_fills_from_events() -> None:
    items = pd.DataFrame({"item_id": ["a", "b"], "brand": ["B1", "B2"]})
    log = _log(items, category=["x", "y", "x", "z"])
    attributes = log.item_attributes().sort_values("item_id").reset_index(drop=True)
    assert attributes["item_id"].tolist() == ["a", "b", "c"]
    assert attributes["brand"].tolist()[:2] == ["B1", "B2"]
    assert pd.isna(attributes["brand"].iloc[2])
    assert attributes["category"].tolist() == ["x", "y", "z"]


def test_is_in_matches_pandas_isin() -> None:
    values = pd.Series(["a", "b", "c", "a"], dtype="str")
    assert is_in(values, pd.Series(["a", "z"], dtype="str")).tolist() == [
        True,
        False,
        False,
        True,
    ]


def test_describe_event_log_counts_by_hand() -> None:
    summary = describe_event_log(_log(category=["x", "y", "x", "x"]))
    assert summary["num_events"] == 4
    assert summary["num_users"] == 3
    assert summary["num_items"] == 3
    assert summary["num_pairs"] == 4
    assert summary["sparsity"] == pytest.approx(1 - 4 / 9)
    assert summary["events_per_behavior"] == {"click": 2, "cart": 1, "favorite": 0, "purchase": 1}
    assert summary["time_range"] == [5, 20]
    assert summary["top_categories"] == [["x", 3], ["y", 1]]


def test_describe_event_log_takes_categories_from_the_catalogue() -> None:
    items = pd.DataFrame({"item_id": ["a", "b", "c"], "category": ["k", "m", "m"]})
    summary = describe_event_log(_log(items))
    assert summary["top_categories"] == [["k", 2], ["m", 2]]


def test_find_dataset_dir_explicit_env_and_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shop").mkdir()
    assert find_dataset_dir("shop", tmp_path / "shop", expected="e.csv", download_hint="") == (
        tmp_path / "shop"
    )
    with pytest.raises(DataNotFoundError, match=r"data_dir=.*nowhere.* is not a folder"):
        find_dataset_dir("shop", tmp_path / "nowhere", expected="e.csv", download_hint="")
    monkeypatch.setenv("TFRS_MTL_DATA_DIR", str(tmp_path))
    assert find_dataset_dir("shop", None, expected="e.csv", download_hint="") == tmp_path / "shop"
    with pytest.raises(DataNotFoundError, match=r"has no other/ folder.*Get it at X"):
        find_dataset_dir("other", None, expected="e.csv", download_hint="Get it at X")
    monkeypatch.delenv("TFRS_MTL_DATA_DIR")
    with pytest.raises(DataNotFoundError, match=r"TFRS_MTL_DATA_DIR is not set.*data_dir="):
        find_dataset_dir("shop", None, expected="e.csv", download_hint="")
