"""`tfds_order`: the order TFDS stores MovieLens examples in, checked against TFDS's hasher."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tfrs_mtl.data.movielens_tfds import in_tfds_order, tfds_order


def test_matches_the_tfds_hasher() -> None:
    from tensorflow_datasets.core.hashing import Hasher

    keys = np.arange(500)
    hasher = Hasher("train")
    expected = sorted(keys.tolist(), key=hasher.hash_key)
    assert keys[tfds_order(keys)].tolist() == expected


def test_ml100k_first_example_is_the_tutorials() -> None:
    # tfds.load("movielens/100k-ratings") starts with u.data row 16399: user 138, movie 357.
    assert tfds_order(np.arange(100_000))[:3].tolist() == [16399, 1680, 47917]


def test_in_tfds_order_uses_the_index_as_keys() -> None:
    frame = pd.DataFrame({"value": [10, 20, 30]}, index=[5, 6, 7])
    expected = pd.Index([5, 6, 7])[tfds_order(np.asarray([5, 6, 7]))]
    assert in_tfds_order(frame).index.equals(expected)
