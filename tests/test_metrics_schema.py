"""flatten_metrics: the flat metrics.json schema."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.evaluation.metrics_schema import flatten_metrics


def test_flat_keys_for_model_baselines_and_time() -> None:
    flat = flatten_metrics(
        {
            "retrieval": {"recall@10": 0.3, "ndcg@10": 0.31, "top100_hit": 0.4},
            "rating": {"rmse": np.float32(0.5), "mae": 0.7},
            "index": {"recall@10_vs_exact": 0.98},
        },
        baselines={"popularity": {"retrieval": {"recall@10": 0.2}}},
        train_seconds=12,
    )
    assert flat == {
        "baselines/popularity/retrieval/recall@10": 0.2,
        "index/recall@10_vs_exact": 0.98,
        "rating/mae": 0.7,
        "rating/rmse": 0.5,
        "retrieval/ndcg@10": 0.31,
        "retrieval/recall@10": 0.3,
        "retrieval/top100_hit": 0.4,
        "train_seconds": 12.0,
    }
    assert list(flat) == sorted(flat)
    assert all(type(value) is float for value in flat.values())


def test_bad_names_and_values_are_named() -> None:
    with pytest.raises(ValueError, match="task name 'a/b'"):
        flatten_metrics({"a/b": {"m": 1.0}})
    with pytest.raises(ValueError, match="rating/rmse: expected a finite number, got nan"):
        flatten_metrics({"rating": {"rmse": float("nan")}})
    with pytest.raises(ValueError, match="rating/rmse: expected a number, got 'low'"):
        flatten_metrics({"rating": {"rmse": "low"}})  # type: ignore[dict-item]
