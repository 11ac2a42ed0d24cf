"""`build_dataset`: batches of the flat feature dict, seeded shuffling, length checks."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.models import build_dataset

ARRAYS = {
    "user_id": np.array(["a", "b", "c", "d", "e"], dtype=object),
    "movie_genres": np.array([[1, -1], [2, 3], [4, -1], [5, -1], [6, 7]]),
    "user_rating": np.arange(5, dtype=np.float32),
}


def test_batches_keep_dtypes_and_shapes() -> None:
    batches = list(build_dataset(ARRAYS, batch_size=2, shuffle=False))
    assert [len(batch["user_id"]) for batch in batches] == [2, 2, 1]
    first = batches[0]
    assert first["user_id"].dtype == tf.string
    assert first["movie_genres"].shape == (2, 2) and first["movie_genres"].dtype == tf.int64
    np.testing.assert_array_equal(first["user_rating"].numpy(), [0.0, 1.0])


def test_shuffle_is_seeded_and_a_permutation() -> None:
    def order(seed: int) -> list[float]:
        dataset = build_dataset(ARRAYS, batch_size=5, shuffle=True, seed=seed)
        return next(iter(dataset))["user_rating"].numpy().tolist()

    assert order(7) == order(7)
    assert sorted(order(7)) == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_unequal_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="arrays differ in length"):
        build_dataset({"a": np.zeros(3), "b": np.zeros(2)}, batch_size=2)
