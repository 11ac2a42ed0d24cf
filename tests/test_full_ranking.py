"""evaluate_full_ranking and evaluate_retrieved: hand-computed cases and agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tfrs_mtl.evaluation.full_ranking import (
    evaluate_full_ranking,
    evaluate_retrieved,
    retrieval_depth,
)

# 3 users, 5 items, 1-d embeddings. User 0 scores items 0.9 > 0.8 > 0.7 > 0.6 > 0.5, has
# item 0 in training and items {2, 4} in test; user 1 scores every item 0 (a 5-way tie,
# broken by lower index) and has test item {0}; user 2 has no test item.
QUERY = np.array([[1.0], [0.0], [1.0]], dtype=np.float32)
ITEMS = np.array([[0.9], [0.8], [0.7], [0.6], [0.5]], dtype=np.float32)
TRAIN = (np.array([0, 2]), np.array([0, 3]))
TEST = (np.array([0, 0, 1]), np.array([2, 4, 0]))


def _hand_checked(metrics: dict[str, float]) -> None:
    # After masking item 0, user 0 ranks [1, 2, 3, 4]: hits at ranks 2 and 4 (n=2).
    # User 1 ranks [0, 1, 2, 3, 4]: hit at rank 1 (n=1).
    assert metrics["recall@1"] == pytest.approx((0 + 1) / 2)
    assert metrics["recall@2"] == pytest.approx((1 / 2 + 1) / 2)
    ndcg_user0 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert metrics["ndcg@2"] == pytest.approx((ndcg_user0 + 1) / 2)
    assert metrics["mrr@2"] == pytest.approx((1 / 2 + 1) / 2)
    # Top-1 items shown: user 0 -> 1, user 1 -> 0: 2 of 5.
    assert metrics["coverage@1"] == pytest.approx(2 / 5)


def test_embeddings_hand_computed() -> None:
    result = evaluate_full_ranking((QUERY, ITEMS), TRAIN, TEST, ks=(1, 2))
    assert result.num_users == 2
    assert result.num_test_pairs_in_train == 0
    _hand_checked(result.metrics)


def test_score_fn_and_batch_size_give_the_same_result() -> None:
    def score_fn(users: np.ndarray) -> np.ndarray:
        return QUERY[users] @ ITEMS.T

    result = evaluate_full_ranking(
        score_fn, TRAIN, TEST, num_users=3, num_items=5, ks=(1, 2), batch_size=1
    )
    _hand_checked(result.metrics)


def test_test_pairs_seen_in_training_are_dropped_and_counted() -> None:
    # User 0's test item 0 is also a training item: it cannot be retrieved once masked.
    test = (np.array([0, 0, 0, 1]), np.array([2, 4, 0, 0]))
    result = evaluate_full_ranking((QUERY, ITEMS), TRAIN, test, ks=(1, 2))
    assert result.num_test_pairs_in_train == 1
    _hand_checked(result.metrics)


def test_catalogue_smaller_than_k_is_padded() -> None:
    result = evaluate_full_ranking((QUERY, ITEMS), TRAIN, TEST, ks=(10,))
    # Every relevant item is somewhere in the (masked) catalogue.
    assert result.metrics["recall@10"] == pytest.approx(1.0)
    assert result.recall_curve.shape == (10,)


def test_score_fn_needs_num_items_and_the_right_shape() -> None:
    with pytest.raises(ValueError, match="num_items is required"):
        evaluate_full_ranking(lambda users: np.zeros((users.size, 5)), TRAIN, TEST)
    with pytest.raises(ValueError, match=r"returned shape \(2, 4\)"):
        evaluate_full_ranking(lambda users: np.zeros((users.size, 4)), TRAIN, TEST, num_items=5)


def test_retrieved_lists_are_masked_and_scored_the_same() -> None:
    # A retriever that does not mask: user 0 gets item 0 (a training item) first.
    top_ids = np.array([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4], [0, 1, 2, 4, -1]])
    result = evaluate_retrieved(top_ids, TRAIN, TEST, num_items=5, ks=(1, 2))
    _hand_checked(result.metrics)


def test_retrieved_needs_a_row_for_every_test_user() -> None:
    with pytest.raises(ValueError, match="1 users with test items have no retrieved row"):
        evaluate_retrieved(
            np.array([[1, 2]]), TRAIN, TEST, num_items=5, user_indices=np.array([0]), ks=(1,)
        )


def test_retrieved_matches_full_ranking_on_random_data() -> None:
    rng = np.random.default_rng(0)
    num_users, num_items, ks = 30, 40, (1, 5, 10)
    query = rng.normal(size=(num_users, 4)).astype(np.float32)
    items = rng.normal(size=(num_items, 4)).astype(np.float32)
    train = (rng.integers(0, num_users, 200), rng.integers(0, num_items, 200))
    test = (rng.integers(0, num_users, 60), rng.integers(0, num_items, 60))
    full = evaluate_full_ranking((query, items), train, test, ks=ks, batch_size=7)
    # Exact unmasked top lists long enough to survive the removal of training items.
    exact = np.argsort(-(query @ items.T), axis=1, kind="stable")[:, :30]
    retrieved = evaluate_retrieved(exact, train, test, num_items=num_items, ks=ks)
    assert retrieved.metrics == pytest.approx(full.metrics)
    assert retrieved.num_users == full.num_users


def test_retrieval_depth_leaves_k_items_after_masking() -> None:
    # Users 0 and 2 have one training item each: 2 + 1 = 3; capped by the 5 items.
    assert retrieval_depth(TRAIN, 2, num_users=3, num_items=5) == 3
    assert retrieval_depth(TRAIN, 10, num_users=3, num_items=5) == 5
