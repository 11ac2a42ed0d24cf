"""Train/test splits of a ratings or events frame.

`split(frame, method, ...)` covers the methods that cut one frame in two:

* `tutorial`: the TFRS tutorials' recipe, exactly: `tf.random.set_seed(seed)`, then
  `shuffle(buffer_size, seed=seed, reshuffle_each_iteration=False)` over the examples in the
  order `tfds.load` yields them, the first `train_fraction` for training and the rest for
  testing (80,000 / 20,000 on ml-100k). Both parts keep the shuffled order.
* `random`: a seeded uniform fraction.
* `temporal`: a global time cut: the earliest `train_fraction` of rows (or those before
  `cutoff_timestamp`) train, the rest test.
* `leave_last_n`: each user's last `num_test_per_user` ratings by timestamp are test; users
  with no more than that many ratings stay entirely in train.

`kfold` gives seeded folds; `canonical_folds.canonical_folds` the ml-100k files `u1..u5`,
`ua`, `ub`.
Except for `tutorial`, both parts keep the frame's row order; the frame index is kept.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import pandas as pd

from tfrs_mtl.data.movielens_tfds import tfds_order

SplitMethod = Literal["tutorial", "random", "temporal", "leave_last_n"]
SPLIT_METHODS: tuple[str, ...] = ("tutorial", "random", "temporal", "leave_last_n")


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
    """A train and a test frame (rows of the same source frame, index kept)."""

    train: pd.DataFrame
    test: pd.DataFrame


def split(
    frame: pd.DataFrame,
    method: SplitMethod = "tutorial",
    *,
    train_fraction: float = 0.8,
    seed: int = 42,
    buffer_size: int = 100_000,
    order: Literal["tfds", "frame"] = "tfds",
    cutoff_timestamp: int | None = None,
    num_test_per_user: int = 1,
    user_column: str = "user_id",
    time_column: str = "timestamp",
) -> Split:
    """Splits `frame` in two by `method` (see the module docstring).

    Args:
        frame: ratings (or events); `temporal` and `leave_last_n` need `time_column`,
            `leave_last_n` also `user_column`.
        method: `tutorial`, `random`, `temporal` or `leave_last_n`.
        train_fraction: share of rows in train (`tutorial`, `random`, `temporal`).
        seed: the shuffle seed (`tutorial`, `random`).
        buffer_size: the `tutorial` shuffle buffer (100,000 in the tutorials).
        order: `tutorial` only: shuffle the rows in TFDS order (`tfds`, needs the frame index
            to hold TFDS example keys, as `load_movielens` sets it) or as they are (`frame`).
        cutoff_timestamp: `temporal` only: rows strictly before it train; overrides
            `train_fraction`.
        num_test_per_user: `leave_last_n` only.
        user_column: the user id column.
        time_column: the timestamp column.

    Returns:
        A `Split`.

    Note:
        `tutorial` calls `tf.random.set_seed(seed)`, as the tutorials do, which resets
        TensorFlow's global seed.
    """
    if method not in SPLIT_METHODS:
        raise ValueError(f"method={method!r}; expected one of {SPLIT_METHODS}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction={train_fraction}; expected a number in (0, 1)")
    num_rows = len(frame)
    num_train = round(train_fraction * num_rows)
    if method == "tutorial":
        positions = _tutorial_order(frame, seed, buffer_size, order)
        return Split(frame.iloc[positions[:num_train]], frame.iloc[positions[num_train:]])
    if method == "random":
        permutation = np.random.default_rng(seed).permutation(num_rows)
        is_test = np.ones(num_rows, dtype=bool)
        is_test[permutation[:num_train]] = False
    elif method == "temporal":
        times = frame[time_column].to_numpy()
        if cutoff_timestamp is not None:
            is_test = times >= cutoff_timestamp
        else:
            by_time = np.argsort(times, kind="stable")  # file order breaks ties
            is_test = np.ones(num_rows, dtype=bool)
            is_test[by_time[:num_train]] = False
    else:
        is_test = _last_n_per_user(frame, num_test_per_user, user_column, time_column)
    return Split(frame[~is_test], frame[is_test])


def _tutorial_order(
    frame: pd.DataFrame, seed: int, buffer_size: int, order: Literal["tfds", "frame"]
) -> np.ndarray:
    """Row positions in the order the tutorial's shuffle yields them, `[num_rows]`."""
    import tensorflow as tf  # only this method needs TensorFlow

    if order not in ("tfds", "frame"):
        raise ValueError(f"order={order!r}; expected 'tfds' or 'frame'")
    base = tfds_order(frame.index) if order == "tfds" else np.arange(len(frame))
    tf.random.set_seed(seed)
    # Shuffling row numbers draws the same permutation as shuffling the examples themselves.
    shuffled = tf.data.Dataset.range(len(frame)).shuffle(
        buffer_size, seed=seed, reshuffle_each_iteration=False
    )
    permutation = next(iter(shuffled.batch(max(len(frame), 1)))).numpy()
    return base[permutation]


def _last_n_per_user(
    frame: pd.DataFrame, num_test: int, user_column: str, time_column: str
) -> np.ndarray:
    if num_test < 1:
        raise ValueError(f"num_test_per_user={num_test}; expected a positive integer")
    users = pd.factorize(frame[user_column])[0]
    times = frame[time_column].to_numpy()
    position = np.arange(len(frame))
    by_user_time = np.lexsort((position, times, users))
    counts = np.bincount(users)
    sorted_users = users[by_user_time]
    group_end = np.cumsum(counts)[sorted_users]
    rank_from_end = group_end - np.arange(len(frame)) - 1
    is_test = np.zeros(len(frame), dtype=bool)
    is_test[by_user_time] = (rank_from_end < num_test) & (counts[sorted_users] > num_test)
    return is_test


def kfold(frame: pd.DataFrame, num_folds: int = 5, seed: int = 42) -> list[Split]:
    """Seeded k-fold splits: each row is in exactly one fold's test set.

    Args:
        frame: the rows to split.
        num_folds: number of folds, >= 2; fold sizes differ by at most one row.
        seed: seeds the permutation that assigns rows to folds.

    Returns:
        `num_folds` `Split`s, fold `i` testing on the `i`-th part.
    """
    if num_folds < 2 or num_folds > len(frame):
        raise ValueError(f"num_folds={num_folds}; expected from 2 to the {len(frame)} rows")
    permutation = np.random.default_rng(seed).permutation(len(frame))
    folds = []
    for part in np.array_split(permutation, num_folds):
        is_test = np.zeros(len(frame), dtype=bool)
        is_test[part] = True
        folds.append(Split(frame[~is_test], frame[is_test]))
    return folds
