"""Biased matrix factorization by ALS."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.evaluation.baselines.matrix_factorization import MatrixFactorizationBaseline
from tfrs_mtl.evaluation.pointwise_metrics import rmse


def test_recovers_a_complete_rank_one_matrix_with_biases() -> None:
    # r = 3 + b_u + b_i + p_u q_i, fully observed: rank 1 + biases is fitted exactly.
    rng = np.random.default_rng(0)
    p, q = rng.normal(size=6), rng.normal(size=5)
    b_user, b_item = rng.normal(0, 0.3, 6), rng.normal(0, 0.3, 5)
    users, items = np.meshgrid(np.arange(6), np.arange(5), indexing="ij")
    users, items = users.ravel(), items.ravel()
    ratings = 3 + b_user[users] + b_item[items] + p[users] * q[items]
    model = MatrixFactorizationBaseline.fit(
        users,
        items,
        ratings,
        num_users=6,
        num_items=5,
        dim=1,
        l2=1e-6,
        num_iterations=200,
        rating_range=None,
    )
    assert rmse(ratings, model.predict_rating(users, items)) < 1e-3


def test_predictions_are_clipped_and_scores_rank_items() -> None:
    model = MatrixFactorizationBaseline(
        user_factors=np.array([[2.0]], dtype=np.float32),
        item_factors=np.array([[3.0], [-1.0]], dtype=np.float32),
        user_bias=np.array([0.5], dtype=np.float32),
        item_bias=np.array([0.0, 0.25], dtype=np.float32),
        global_mean=3.0,
        rating_range=(1.0, 5.0),
    )
    # 3 + 0.5 + 0 + 6 = 9.5 -> 5; 3 + 0.5 + 0.25 - 2 = 1.75.
    assert model.predict_rating([0, 0], [0, 1]).tolist() == pytest.approx([5.0, 1.75])
    # Ranking scores omit μ and b_u: [6 + 0, -2 + 0.25].
    assert model.score(np.array([0]))[0].tolist() == pytest.approx([6.0, -1.75])


def test_mismatched_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="differ"):
        MatrixFactorizationBaseline.fit([0], [0, 1], [3.0], num_users=1, num_items=2)
