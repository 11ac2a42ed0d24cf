"""Graded NDCG: gains are the test ratings, ideal order by gain."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.evaluation import GradedRelevance, graded_ndcg

DISCOUNTS = 1.0 / np.log2([2.0, 3.0, 4.0])


def test_graded_ndcg_by_hand() -> None:
    lists = np.array([[3, 1, 2], [0, -1, -1], [4, 5, 1]])
    found = graded_ndcg(
        lists,
        np.array([0, 1, 2]),
        test_users=np.array([0, 0, 1, 1]),
        test_items=np.array([1, 2, 0, 5]),
        gains=np.array([5.0, 3.0, 4.0, 2.0]),
        num_items=6,
        k=3,
    )
    user0 = (5 * DISCOUNTS[1] + 3 * DISCOUNTS[2]) / (5 * DISCOUNTS[0] + 3 * DISCOUNTS[1])
    user1 = 4 * DISCOUNTS[0] / (4 * DISCOUNTS[0] + 2 * DISCOUNTS[1])
    # User 2 has no test item: not averaged.
    assert found == pytest.approx((user0 + user1) / 2)


def test_a_repeated_pair_keeps_its_largest_gain_and_zero_gains_do_not_count() -> None:
    relevance = GradedRelevance(
        np.array([0, 0, 0]), np.array([1, 1, 2]), np.array([2.0, 4.0, 0.0]), num_items=3
    )
    np.testing.assert_array_equal(
        relevance.gains(np.array([0]), np.array([[2, 1, -1]])), [[0, 4, 0]]
    )
    assert relevance.ideal_dcg(np.array([0, 1]), 2) == pytest.approx([4.0, 0.0])


def test_graded_ndcg_needs_a_user_with_a_gain() -> None:
    with pytest.raises(ValueError, match="no listed user"):
        graded_ndcg(
            np.array([[0, 1]]),
            np.array([0]),
            np.array([1]),
            np.array([0]),
            np.array([5.0]),
            num_items=2,
            k=2,
        )
    with pytest.raises(ValueError, match="must be"):
        graded_ndcg(
            np.array([[0]]),
            np.array([0]),
            np.array([0]),
            np.array([0]),
            np.array([1.0]),
            num_items=2,
            k=2,
        )
