"""ColumnSpec checks and the vectorized value checks of parse_columns."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tfrs_mtl.data.event_columns import ColumnSpec, parse_columns

SPEC = ColumnSpec(
    {"user_id": "u", "item_id": "i", "behavior": "b", "timestamp": "t", "price": "p"},
    behavior_map={"pv": "click", "buy": "purchase"},
    integer_ids=True,
)


def _bad(table: pa.Table, spec: ColumnSpec = SPEC) -> dict[str, list[int]]:
    _, problems = parse_columns(table, spec)
    return {problem.reason: np.flatnonzero(problem.rows).tolist() for problem in problems}


def test_every_check_flags_exactly_its_rows() -> None:
    table = pa.table(
        {
            "u": ["1", "x", "3", "4", "5", "6"],
            "i": ["7", "8", "", "9", "10", "11"],
            "b": ["pv", "buy", "pv", "fav", "pv", "pv"],
            "t": ["10", "11", "12", "13", "-1", "99999999999999999999"],
            "p": ["1.5", "2", ".5", "1e2", "inf", "-0.1"],
        }
    )
    assert _bad(table) == {
        "non-integer user_id": [1],
        "non-integer item_id": [2],
        "unknown behavior": [3],
        "non-integer timestamp": [4],
        "timestamp out of range": [5],
        "NaN or infinite price": [4],
        "negative price": [5],
    }


def test_parsed_values() -> None:
    table = pa.table({"u": ["1"], "i": ["2"], "b": ["buy"], "t": ["1511544070"], "p": ["1e2"]})
    parsed, problems = parse_columns(table, SPEC)
    assert problems == []
    frame = parsed.to_frame(None)
    assert frame.iloc[0].tolist() == ["1", "2", "purchase", 1511544070, 100.0]


def test_typed_columns_from_parquet() -> None:
    table = pa.table(
        {
            "u": pa.array([1, -2], pa.int64()),
            "i": pa.array([3, 4], pa.int32()),
            "b": pa.array(["pv", None]),
            "t": pa.array([5, None], pa.int64()),
            "p": pa.array([1.0, None]),
        }
    )
    assert _bad(table) == {
        "negative user_id": [1],
        "unknown behavior": [1],
        "non-integer timestamp": [1],
        "non-numeric price": [1],
    }


def test_empty_attributes_become_missing() -> None:
    spec = ColumnSpec({"user_id": "u", "item_id": "i", "category": "c"}, default_behavior="cart")
    parsed, _ = parse_columns(pa.table({"u": ["a", "b"], "i": ["x", "y"], "c": ["", "k"]}), spec)
    frame = parsed.to_frame(np.array([True, True]))
    assert frame["behavior"].tolist() == ["cart", "cart"]
    assert frame["category"].isna().tolist() == [True, False]


def test_to_frame_keeps_only_kept_rows() -> None:
    table = pa.table({"u": ["1", "2", "3"], "i": ["4", "5", "6"], "b": ["pv", "buy", "pv"],
                      "t": ["1", "2", "3"], "p": ["1", "2", "3"]})  # fmt: skip
    parsed, _ = parse_columns(table, SPEC)
    frame = parsed.to_frame(np.array([True, False, True]))
    assert frame["user_id"].tolist() == ["1", "3"]
    assert frame["timestamp"].tolist() == [1, 3]
    assert frame["price"].tolist() == [1.0, 3.0]


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (ColumnSpec({"user_id": "u"}, default_behavior="click"), "column_map lacks 'item_id'"),
        (ColumnSpec({"user_id": "u", "item_id": "i"}), "exactly one of"),
        (ColumnSpec({"user_id": "u", "item_id": "i", "rating": "r"}, default_behavior="click"),
         "unknown keys ['rating']"),
    ],
)  # fmt: skip
def test_spec_problems(spec: ColumnSpec, problem: str) -> None:
    assert any(problem in found for found in spec.problems())
