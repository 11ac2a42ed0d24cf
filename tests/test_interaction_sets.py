"""UserItemSets: CSR of user -> items, dense blocks and membership."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.evaluation.interaction_sets import UserItemSets, encode_pairs


@pytest.fixture
def sets() -> UserItemSets:
    # user 0: {1, 3} (3 given twice), user 1: {}, user 2: {0}
    return UserItemSets.from_pairs([0, 2, 0, 0], [3, 0, 1, 3], num_users=3, num_items=4)


def test_from_pairs_sorts_and_deduplicates(sets: UserItemSets) -> None:
    assert sets.indptr.tolist() == [0, 2, 2, 3]
    assert sets.indices.tolist() == [1, 3, 0]
    assert sets.counts().tolist() == [2, 0, 1]


def test_dense_block_keeps_the_batch_order(sets: UserItemSets) -> None:
    block = sets.dense_block([2, 1, 0])
    assert block.tolist() == [
        [True, False, False, False],
        [False, False, False, False],
        [False, True, False, True],
    ]


def test_sparse_block_holds_the_dense_block_as_float_ones(sets: UserItemSets) -> None:
    users = [2, 1, 0, 2]  # a user with no items, and one asked twice
    block = sets.sparse_block(users)
    assert block.shape == (4, 4) and block.dtype == np.float32
    np.testing.assert_array_equal(block.toarray(), sets.dense_block(users).astype(np.float32))
    weights = np.arange(8, dtype=np.float32).reshape(4, 2)
    np.testing.assert_array_equal(block @ weights, sets.dense_block(users) @ weights)


def test_contains_ignores_padding(sets: UserItemSets) -> None:
    found = sets.contains([0, 2], np.array([[3, 0, -1], [0, 1, -1]]))
    assert found.tolist() == [[True, False, False], [True, False, False]]


def test_out_of_range_index_is_named() -> None:
    with pytest.raises(ValueError, match=r"item_indices: index 4 is outside \[0, 4\)"):
        UserItemSets.from_pairs([0], [4], num_users=1, num_items=4)


def test_encode_pairs_maps_ids_to_vocabulary_rows() -> None:
    users, items = encode_pairs(["b", "a"], ["x", "z"], ["a", "b"], ["z", "y", "x"])
    assert users.tolist() == [1, 0]
    assert items.tolist() == [2, 0]
    with pytest.raises(ValueError, match="item id 'w' is not in the item vocabulary"):
        encode_pairs(["a"], ["w"], ["a"], ["x"])
