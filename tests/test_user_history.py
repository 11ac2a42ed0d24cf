"""UserHistories: training items per user, own item excluded, capped, full for serving."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.features import FeatureSpec
from tfrs_mtl.features.user_history import (
    HISTORY_FEATURE,
    UserHistories,
    integer_item_ids,
    user_history_feature,
)


def _histories() -> UserHistories:
    # user 0 rated 10, 20, 30; user 1 rated 20; user 2 has no training rows.
    return UserHistories.fit(np.array([0, 1, 0, 0]), np.array([10, 20, 20, 30]), num_users=3)


def test_full_histories_hold_every_training_item_padded() -> None:
    assert _histories().full(np.array([1, 0, 2])).tolist() == [
        [20, -1, -1],
        [10, 20, 30],
        [-1, -1, -1],
    ]


def test_training_histories_leave_out_the_rows_own_item() -> None:
    found = _histories().for_training(np.array([0, 0, 1]), np.array([20, 99, 20]), 5, seed=0)
    assert found.tolist() == [[10, 30, -1], [10, 20, 30], [-1, -1, -1]]


def test_training_histories_keep_a_seeded_subset_in_history_order() -> None:
    histories = UserHistories.fit(np.zeros(6, np.int64), np.arange(6), num_users=1)
    first = histories.for_training(np.zeros(4, np.int64), np.full(4, -5), 2, seed=3)
    again = histories.for_training(np.zeros(4, np.int64), np.full(4, -5), 2, seed=3)
    assert first.shape == (4, 2) and (first == again).all()
    assert all(row[0] < row[1] for row in first.tolist())


def test_with_times_full_histories_list_the_oldest_first() -> None:
    # user 0 rated 10 at t=5, 20 at t=1, 30 at t=5 (a tie keeps row order), 40 at t=3.
    users, items = np.array([0, 1, 0, 0, 0]), np.array([10, 20, 20, 30, 40])
    timed = UserHistories.fit(users, items, num_users=3, times=np.array([5, 9, 1, 5, 3]))
    assert timed.full(np.array([0, 1, 2])).tolist() == [
        [20, 40, 10, 30],
        [20, -1, -1, -1],
        [-1, -1, -1, -1],
    ]
    # Training rows' histories are the untimed ones (row order), whatever the times.
    untimed = UserHistories.fit(users, items, num_users=3)
    rows = np.array([0, 0, 1]), np.array([20, 99, 20])
    np.testing.assert_array_equal(
        timed.for_training(*rows, 3, seed=0), untimed.for_training(*rows, 3, seed=0)
    )


def test_unknown_user_has_an_empty_history() -> None:
    assert _histories().full(np.array([7])).tolist() == [[-1]]


def test_max_length_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_length=0"):
        _histories().for_training(np.array([0]), np.array([10]), 0, seed=0)


def test_item_ids_must_be_integer_like() -> None:
    assert integer_item_ids(np.array(["242", "7"], dtype=object)).tolist() == [242, 7]
    with pytest.raises(ValueError, match="integer-like"):
        integer_item_ids(np.array(["x1"], dtype=object))


def test_history_feature_shares_the_item_table() -> None:
    feature = user_history_feature("movie_id", 8)
    assert (feature.name, feature.kind, feature.side) == (HISTORY_FEATURE, "multi_hot", "query")
    assert feature.table_name == "movie_id" and feature.embedding_dim == 8
    FeatureSpec(features=(feature,))  # validates
