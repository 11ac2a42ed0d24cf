"""The MovieLens-100K `tutorial` split as arrays, index maps, user and item tables.

Built from the library's experiment data (`tfrs_mtl.experiments.experiment_data`), so the
benchmark trains on exactly what `tfrs-mtl train` trains on, `user_history` included: the
histories are fitted on the training rows only; a training row's history leaves out its own
movie and keeps at most `history_length` movies, evaluation rows and the user table read the
user's full training history. Users and movies get dense indices over the whole ratings
frame (943 x 1,682), so every score matrix of the models and the baselines is
`[num_users, num_items]` in the same order and all 1,682 movies are candidates. With
`validation=True` the evaluation part is a seeded 10% of the tutorial TRAINING rows (the test
rows are never read): hyper-parameters are explored there.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import (
    ExperimentData,
    feature_arrays,
    fit_user_histories,
    load_experiment_data,
    split_experiment_data,
    training_feature_arrays,
)
from tfrs_mtl.features.user_history import DEFAULT_HISTORY_LENGTH, HISTORY_FEATURE

__all__ = ["HISTORY_FEATURE", "QualityData", "load_quality_data"]

#: The validation carve-out's share of the training rows: 20% leaves ~17 items per user,
#: near the test split's ~21, and ranks configurations as the test split does; the 10% of
#: sessions 1-4 (~8 items per user) did not (`benchmarks/quality/EXPLORATION.md`, session 5).
VALIDATION_FRACTION = 0.2


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


def _user_rows(data: ExperimentData, train: np.ndarray) -> np.ndarray:
    """Each user's latest training row (by timestamp), else their latest row; user order."""
    is_train = np.zeros(len(data.frame), dtype=bool)
    is_train[train] = True
    times = data.frame["timestamp"].to_numpy(dtype=np.int64)
    order = np.arange(len(data.frame))
    ranked = np.lexsort((order, times, is_train, data.user_index))
    last = np.r_[data.user_index[ranked][1:] != data.user_index[ranked][:-1], True]
    return ranked[last]


def load_quality_data(
    validation: bool = False,
    history_length: int = DEFAULT_HISTORY_LENGTH,
    seed: int = 0,
    validation_fraction: float = VALIDATION_FRACTION,
) -> QualityData:
    """Loads ml-100k (from `$TFRS_MTL_DATA_DIR`) and splits it as the TFRS tutorial does.

    `history_length=0` leaves out the `user_history` feature. With `validation`, a seeded
    `validation_fraction` of the training rows is scored instead of the test rows.
    """
    config = ExperimentConfig(user_history_length=history_length, seed=seed)
    data = load_experiment_data(config)
    train, test = split_experiment_data(data, config.split)
    if validation:
        held_out = np.random.default_rng(seed).random(len(train)) < validation_fraction
        train, test = train[~held_out], train[held_out]
        if history_length:
            fit_user_histories(data, train)  # the carve-out's items are not in any history
    _, first_rows = np.unique(data.item_index, return_index=True)
    return QualityData(
        train=training_feature_arrays(data, train),
        test=feature_arrays(data, test),
        user_ids=data.user_ids,
        item_ids=data.item_ids,
        train_pairs=data.pairs(train),
        test_pairs=data.pairs(test),
        users=feature_arrays(data, _user_rows(data, train)),
        catalogue=feature_arrays(data, first_rows),
        evaluation="validation" if validation else "test",
    )
