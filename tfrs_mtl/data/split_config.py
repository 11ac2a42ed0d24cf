"""`SplitConfig`: a train/test split as configuration, and `split_from_config` to apply it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pandas as pd

from tfrs_mtl.config import Config, require
from tfrs_mtl.data.canonical_folds import CANONICAL_FOLDS, canonical_folds
from tfrs_mtl.data.splits import Split, kfold, split

#: Seeds feed `numpy.random.default_rng`, `np.random.seed` and TensorFlow: 32 bits.
MAX_SEED = 2**32 - 1
#: A k-fold split trains k models; more folds than this is a typo, not an experiment.
MAX_FOLDS = 100

SplitConfigMethod = Literal["tutorial", "random", "temporal", "leave_last_n", "kfold", "canonical"]


@dataclasses.dataclass(frozen=True)
class SplitConfig(Config):
    """How to split ratings into train and test (see `tfrs_mtl.data.splits`).

    Attributes:
        method: `tutorial`, `random`, `temporal`, `leave_last_n`, `kfold` (test on fold
            `fold_index` of `num_folds`) or `canonical` (the ml-100k files `canonical_fold`).
        train_fraction: share of rows in train (`tutorial`, `random`, `temporal`).
        seed: shuffle seed (`tutorial`, `random`, `kfold`).
        buffer_size: `tutorial` shuffle buffer.
        order: `tutorial`: shuffle in TFDS order (`tfds`) or frame order (`frame`).
        cutoff_timestamp: `temporal`: rows before it train; None cuts at `train_fraction`.
        num_test_per_user: `leave_last_n`: held-out ratings per user.
        num_folds: `kfold`: number of folds.
        fold_index: `kfold`: the fold tested, 0-based.
        canonical_fold: `canonical`: one of u1..u5, ua, ub.

    Example:
        >>> SplitConfig.from_dict({"method": "kfold", "num_folds": 5, "fold_index": 2})
    """

    method: SplitConfigMethod = "tutorial"
    train_fraction: float = 0.8
    seed: int = 42
    buffer_size: int = 100_000
    order: Literal["tfds", "frame"] = "tfds"
    cutoff_timestamp: int | None = None
    num_test_per_user: int = 1
    num_folds: int = 5
    fold_index: int = 0
    canonical_fold: str = "u1"

    def validate(self) -> None:
        require(
            0.0 < self.train_fraction < 1.0,
            f"train_fraction={self.train_fraction} is not in (0, 1)",
        )
        require(self.buffer_size >= 1, f"buffer_size={self.buffer_size} must be at least 1")
        require(
            self.num_test_per_user >= 1,
            f"num_test_per_user={self.num_test_per_user} must be at least 1",
        )
        require(0 <= self.seed <= MAX_SEED, f"seed={self.seed} is not in [0, {MAX_SEED}]")
        require(
            2 <= self.num_folds <= MAX_FOLDS,
            f"num_folds={self.num_folds} is not in [2, {MAX_FOLDS}]",
        )
        require(
            0 <= self.fold_index < self.num_folds,
            f"fold_index={self.fold_index} is not in [0, num_folds={self.num_folds})",
        )
        require(
            self.canonical_fold in CANONICAL_FOLDS,
            f"canonical_fold={self.canonical_fold!r} is not one of {list(CANONICAL_FOLDS)}",
        )


def split_from_config(
    frame: pd.DataFrame, config: SplitConfig, data_dir: str | Path | None = None
) -> Split:
    """Applies `config` to `frame`; `data_dir` locates ml-100k for `canonical` folds."""
    if config.method == "kfold":
        return kfold(frame, config.num_folds, config.seed)[config.fold_index]
    if config.method == "canonical":
        return canonical_folds(data_dir, config.canonical_fold, ratings=frame)
    return split(
        frame,
        config.method,
        train_fraction=config.train_fraction,
        seed=config.seed,
        buffer_size=config.buffer_size,
        order=config.order,
        cutoff_timestamp=config.cutoff_timestamp,
        num_test_per_user=config.num_test_per_user,
    )
