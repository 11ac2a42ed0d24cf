"""The MovieLens-100K `tutorial` split as arrays, index maps, user and item tables.

Users and movies get dense indices over the whole ratings frame (943 x 1,682), so every score
matrix of the models and the baselines is `[num_users, num_items]` in the same order and all
1,682 movies are candidates. With `validation=True` the evaluation part is a seeded 10% of
the tutorial TRAINING rows (the test rows are never read): hyper-parameters are explored there.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from tfrs_mtl.data import load_movielens, split, to_feature_arrays

VALIDATION_FRACTION = 0.1
HISTORY_FEATURE = "user_history"


def _histories(
    train: pd.DataFrame, frame: pd.DataFrame, length: int, exclude_own: bool, seed: int
) -> np.ndarray:
    """`[len(frame), length]` int64 movie ids the row's user rated in `train`, -1 padded.

    A random subset (seeded) when the user has more than `length`; with `exclude_own` the
    row's own movie is left out, so a training row never sees its positive in its query (the
    query must predict held-out items from the others, as EASE does).
    """
    by_user = {
        user: group.to_numpy(dtype=np.int64)
        for user, group in train["movie_id"].astype(int).groupby(train["user_id"].astype(str))
    }
    rng = np.random.default_rng(seed)
    out = np.full((len(frame), length), -1, dtype=np.int64)
    users = frame["user_id"].astype(str).to_numpy()
    movies = frame["movie_id"].astype(int).to_numpy()
    for row, (user, movie) in enumerate(zip(users, movies, strict=True)):
        items = by_user.get(user, np.zeros(0, np.int64))
        if exclude_own:
            items = items[items != movie]
        if len(items) > length:
            items = rng.choice(items, length, replace=False)
        out[row, : len(items)] = items
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class QualityData:
    """Attributes:
    train: feature + label arrays of the training rows.
    test: feature + label arrays of the evaluation rows (test, or validation).
    user_ids / item_ids: raw ids in index order.
    train_pairs / test_pairs: `(user_indices, item_indices)`.
    users: query features of every user (their latest training row), user-index order.
    catalogue: candidate features of every movie (its first row), item-index order.
    evaluation: `test` or `validation`.
    """

    train: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    user_ids: np.ndarray
    item_ids: np.ndarray
    train_pairs: tuple[np.ndarray, np.ndarray]
    test_pairs: tuple[np.ndarray, np.ndarray]
    users: dict[str, np.ndarray]
    catalogue: dict[str, np.ndarray]
    evaluation: str

    @property
    def num_users(self) -> int:
        return len(self.user_ids)

    @property
    def num_items(self) -> int:
        return len(self.item_ids)


def _pairs(frame: pd.DataFrame, users: pd.Index, items: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    return (
        users.get_indexer(frame["user_id"].astype(str)).astype(np.int64),
        items.get_indexer(frame["movie_id"].astype(str)).astype(np.int64),
    )


def load_quality_data(
    validation: bool = False, history_length: int = 0, seed: int = 0
) -> QualityData:
    """Loads ml-100k (from `$TFRS_MTL_DATA_DIR`) and splits it as the TFRS tutorial does.

    With `history_length > 0`, every array gets `user_history`: the movies the user rated in
    training (training rows: up to `history_length` of them, their own movie excluded;
    evaluation rows and the user table: all of them).
    """
    ratings = load_movielens("movielens-100k").ratings
    parts = split(ratings, "tutorial")
    train, test = parts.train, parts.test
    if validation:
        held_out = np.random.default_rng(seed).random(len(train)) < VALIDATION_FRACTION
        train, test = train[~held_out], train[held_out]
    user_index = pd.Index(np.unique(ratings["user_id"].astype(str)))
    item_index = pd.Index(np.unique(ratings["movie_id"].astype(str)))
    # Query features of a user: their latest training row (no evaluation row is read).
    latest = train.sort_values("timestamp", kind="stable").drop_duplicates("user_id", keep="last")
    missing = ratings[~ratings["user_id"].isin(latest["user_id"])].drop_duplicates("user_id")
    user_rows = pd.concat([latest, missing])
    user_rows = user_rows.iloc[user_index.get_indexer(user_rows["user_id"].astype(str)).argsort()]
    item_rows = ratings.drop_duplicates("movie_id")
    item_rows = item_rows.iloc[item_index.get_indexer(item_rows["movie_id"].astype(str)).argsort()]
    arrays = {"train": to_feature_arrays(train), "test": to_feature_arrays(test)}
    user_arrays = to_feature_arrays(user_rows)
    if history_length:
        longest = int(train.groupby("user_id").size().max())
        arrays["train"][HISTORY_FEATURE] = _histories(train, train, history_length, True, seed)
        arrays["test"][HISTORY_FEATURE] = _histories(train, test, longest, False, seed)
        user_arrays[HISTORY_FEATURE] = _histories(train, user_rows, longest, False, seed)
    return QualityData(
        train=arrays["train"],
        test=arrays["test"],
        user_ids=user_index.to_numpy(dtype=object),
        item_ids=item_index.to_numpy(dtype=object),
        train_pairs=_pairs(train, user_index, item_index),
        test_pairs=_pairs(test, user_index, item_index),
        users=user_arrays,
        catalogue=to_feature_arrays(item_rows),
        evaluation="validation" if validation else "test",
    )
