"""Splits: the TFRS tutorial recipe exactly, and seeded random, temporal, leave-last-n, k-fold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.data.movielens import load_movielens
from tfrs_mtl.data.movielens_tfds import in_tfds_order
from tfrs_mtl.data.splits import kfold, split
from tfrs_mtl.data.tensors import as_tf_dataset

KEYS = ["user_id", "movie_id", "timestamp"]


def _frame(users: list[str], times: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"user_id": users, "timestamp": np.asarray(times, np.int64)})


def test_tutorial_split_is_the_literal_tfrs_recipe(ml100k_dir: Path) -> None:
    import tensorflow as tf

    ratings = load_movielens("movielens-100k", ml100k_dir).ratings
    parts = split(ratings, "tutorial")
    assert (len(parts.train), len(parts.test)) == (80_000, 20_000)

    # The tutorials: ratings = tfds.load("movielens/100k-ratings", split="train"), then this.
    # The shuffle does not look at the features, so three of them keep the test fast.
    tf.random.set_seed(42)
    shuffled = as_tf_dataset(in_tfds_order(ratings)[KEYS]).shuffle(
        100_000, seed=42, reshuffle_each_iteration=False
    )
    train = shuffled.take(80_000)
    test = shuffled.skip(80_000).take(20_000)
    for ours, theirs in ((parts.train, train), (parts.test, test)):
        batch = next(iter(theirs.batch(100_000)))
        assert ours["user_id"].tolist() == [v.decode() for v in batch["user_id"].numpy()]
        assert ours["movie_id"].tolist() == [v.decode() for v in batch["movie_id"].numpy()]
        assert ours["timestamp"].tolist() == batch["timestamp"].numpy().tolist()


def test_random_split_is_seeded_and_disjoint() -> None:
    frame = _frame(list("abcdefghij"), list(range(10)))
    parts = split(frame, "random", train_fraction=0.8, seed=3)
    assert (len(parts.train), len(parts.test)) == (8, 2)
    assert sorted([*parts.train.index, *parts.test.index]) == list(range(10))
    again = split(frame, "random", train_fraction=0.8, seed=3)
    assert parts.test.index.tolist() == again.test.index.tolist()
    expected_test = sorted(np.random.default_rng(3).permutation(10)[8:].tolist())
    assert parts.test.index.tolist() == expected_test


def test_temporal_split_by_fraction_and_by_cutoff() -> None:
    frame = _frame(list("abcde"), [5, 1, 4, 2, 3])
    parts = split(frame, "temporal", train_fraction=0.6)
    assert parts.train["timestamp"].tolist() == [1, 2, 3]
    assert parts.test["timestamp"].tolist() == [5, 4]
    cut = split(frame, "temporal", cutoff_timestamp=4)
    assert cut.train["timestamp"].tolist() == [1, 2, 3]
    assert cut.test["timestamp"].tolist() == [5, 4]


def test_leave_last_n_per_user() -> None:
    frame = _frame(["a", "a", "a", "b", "c", "c"], [3, 1, 2, 5, 1, 1])
    parts = split(frame, "leave_last_n", num_test_per_user=1)
    # a's latest is row 0; b has one rating and stays in train; c's tie goes to the later row.
    assert parts.test.index.tolist() == [0, 5]
    two = split(frame, "leave_last_n", num_test_per_user=2)
    assert two.test.index.tolist() == [0, 2]


def test_kfold_test_sets_partition_the_rows() -> None:
    frame = _frame(list("abcdefghij"), list(range(10)))
    folds = kfold(frame, num_folds=3, seed=0)
    assert [len(fold.test) for fold in folds] == [4, 3, 3]
    tests = np.concatenate([fold.test.index.to_numpy() for fold in folds])
    assert sorted(tests.tolist()) == list(range(10))
    for fold in folds:
        assert sorted([*fold.train.index, *fold.test.index]) == list(range(10))
    assert [f.test.index.tolist() for f in kfold(frame, 3, seed=0)] == [
        f.test.index.tolist() for f in folds
    ]


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("shuffle", {}, "method='shuffle'"),
        ("random", {"train_fraction": 1.0}, "train_fraction=1.0"),
        ("leave_last_n", {"num_test_per_user": 0}, "num_test_per_user=0"),
    ],
)
def test_bad_options(method: str, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split(_frame(["a"], [1]), method, **options)  # type: ignore[arg-type]
