"""Recommendations: records and frames for printing and JSON; empty results."""

from __future__ import annotations

import json

import numpy as np

from tfrs_mtl.serving.recommendations import Recommendations


def example() -> Recommendations:
    return Recommendations.from_tensors(
        {
            "item_ids": np.array([[b"m2", b"m7"], [b"m5", b""]], dtype=object),
            "retrieval_scores": np.array([[0.9, 0.4], [0.8, np.nan]]),
            "final_scores": np.array([[4.5, 3.0], [4.0, np.nan]]),
            "scores/rating": np.array([[4.5, 3.0], [4.0, np.nan]]),
        },
        ("rating",),
    )


def test_from_tensors_decodes_ids() -> None:
    results = example()
    assert results.item_ids.tolist() == [["m2", "m7"], ["m5", ""]]
    assert (results.batch_size, results.k) == (2, 2)
    assert results.final_scores.dtype == np.float32


def test_records_skip_empty_slots_and_are_json_ready() -> None:
    records = example().to_records()
    assert [(r["query"], r["rank"], r["item_id"]) for r in records] == [
        (0, 1, "m2"),
        (0, 2, "m7"),
        (1, 1, "m5"),
    ]
    assert records[0] == {
        "query": 0,
        "rank": 1,
        "item_id": "m2",
        "retrieval_score": np.float32(0.9).item(),
        "rating_score": 4.5,
        "final_score": 4.5,
    }
    json.dumps(records)


def test_integer_ids_become_python_ints() -> None:
    results = Recommendations.from_tensors(
        {"item_ids": np.array([[42]], np.int64), "retrieval_scores": np.array([[1.0]])}, ()
    )
    assert results.to_records() == [
        {"query": 0, "rank": 1, "item_id": 42, "retrieval_score": 1.0, "final_score": 1.0}
    ]
    assert type(results.to_records()[0]["item_id"]) is int


def test_frame_columns() -> None:
    frame = example().to_frame()
    assert list(frame.columns) == [
        "query",
        "rank",
        "item_id",
        "retrieval_score",
        "rating_score",
        "final_score",
    ]
    assert len(frame) == 3


def test_empty() -> None:
    results = Recommendations.empty(5, ("rating", "purchase"))
    assert results.item_ids.shape == (0, 5)
    assert {task: s.shape for task, s in results.scores.items()} == {
        "rating": (0, 5),
        "purchase": (0, 5),
    }
    assert results.to_records() == []
    assert list(results.to_frame().columns)[-1] == "final_score"
