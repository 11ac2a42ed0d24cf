"""evaluate_baselines: the nested metrics and curves of popularity, EASE and MF."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.evaluation.baselines import evaluate_baselines
from tfrs_mtl.evaluation.pointwise_metrics import rmse

RNG = np.random.default_rng(5)
TRAIN = (RNG.integers(0, 20, 300), RNG.integers(0, 15, 300))
TEST = (RNG.integers(0, 20, 60), RNG.integers(0, 15, 60))
TRAIN_RATINGS = RNG.integers(1, 6, 300).astype(np.float32)
TEST_RATINGS = RNG.integers(1, 6, 60).astype(np.float32)


def test_every_baseline_with_ratings() -> None:
    results = evaluate_baselines(
        TRAIN,
        TEST,
        num_users=20,
        num_items=15,
        train_ratings=TRAIN_RATINGS,
        test_ratings=TEST_RATINGS,
        ks=(5,),
        ease_l2=10.0,
    )
    assert set(results.metrics) == {"popularity", "ease", "item_knn", "matrix_factorization"}
    assert results.ease_l2 == 10.0
    assert set(results.metrics["ease"]) == {"retrieval"}
    assert "top100_hit" in results.metrics["ease"]["retrieval"]
    # Popularity predicts the global training mean for every pair.
    expected = rmse(TEST_RATINGS, np.full(60, TRAIN_RATINGS.mean()))
    assert results.metrics["popularity"]["rating"]["rmse"] == pytest.approx(expected, rel=1e-6)
    assert {name: curve.shape for name, curve in results.recall_curves.items()} == {
        "popularity": (100,),
        "ease": (100,),
        "item_knn": (100,),
        "matrix_factorization": (100,),
    }


def test_without_ratings_mf_is_skipped_and_names_are_checked() -> None:
    results = evaluate_baselines(
        TRAIN, TEST, num_users=20, num_items=15, names=("popularity", "matrix_factorization")
    )
    assert set(results.metrics) == {"popularity"}
    assert set(results.metrics["popularity"]) == {"retrieval"}
    assert results.ease_l2 is None
    with pytest.raises(ValueError, match=r"unknown baselines \['knn'\]"):
        evaluate_baselines(TRAIN, TEST, num_users=20, num_items=15, names=("knn",))
