"""`canonical_folds`: the official ml-100k folds `u1..u5`, `ua`, `ub`, read from their files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tfrs_mtl.data.dataset_files import DatasetFiles
from tfrs_mtl.data.errors import DataError, DataNotFoundError
from tfrs_mtl.data.movielens import load_movielens, locate_movielens
from tfrs_mtl.data.movielens_schema import get_release
from tfrs_mtl.data.rating_file import LAYOUT_100K, read_rating_file
from tfrs_mtl.data.splits import Split

CANONICAL_FOLDS: tuple[str, ...] = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")


def canonical_folds(
    data_dir: str | Path | None = None, fold: str = "u1", ratings: pd.DataFrame | None = None
) -> Split:
    """An official ml-100k fold, read from `<fold>.base` (train) and `<fold>.test` (test).

    `u1..u5` are 80/20 splits whose test sets partition u.data; `ua`/`ub` hold out exactly 10
    ratings per user. Rows are taken from `ratings` (the `movielens-100k` frame) in the fold
    file's order, so they carry every feature and their TFDS key as index.

    Args:
        data_dir: the ml-100k folder or zip; None for `$TFRS_MTL_DATA_DIR/ml-100k`.
        fold: one of `CANONICAL_FOLDS`.
        ratings: `load_movielens("movielens-100k", data_dir).ratings`, to avoid re-reading.

    Returns:
        A `Split`.

    Raises:
        DataError: a fold file is malformed or holds a rating that u.data does not.
        DataNotFoundError: no local ml-100k (TFDS does not ship the fold files).

    Example:
        >>> folds = [canonical_folds(path, f"u{i}") for i in range(1, 6)]  # doctest: +SKIP
    """
    if fold not in CANONICAL_FOLDS:
        raise ValueError(f"fold={fold!r}; expected one of {list(CANONICAL_FOLDS)}")
    release = get_release("movielens-100k")
    location = locate_movielens(release, data_dir)
    if location is None:
        raise DataNotFoundError(
            "the ml-100k folds need local files: pass data_dir (CLI: --data-dir) or set "
            "TFRS_MTL_DATA_DIR to a folder holding ml-100k/ or ml-100k.zip"
        )
    if ratings is None:
        ratings = load_movielens(release.name, location).ratings
    full_keys = _pair_keys(ratings["user_id"].to_numpy(), ratings["movie_id"].to_numpy())
    index = pd.Index(full_keys)
    if not index.is_unique:
        raise ValueError("ratings has duplicate (user, movie) pairs; the folds cannot be matched")
    parts = []
    with DatasetFiles(location) as files:
        for suffix in ("base", "test"):
            name = f"{fold}.{suffix}"
            path = files.display(name)
            rows = read_rating_file(files.read_bytes(name), path, LAYOUT_100K)
            keys = _pair_keys(
                rows.user_id.to_numpy(zero_copy_only=False),
                rows.movie_id.to_numpy(zero_copy_only=False),
            )
            positions = index.get_indexer(keys)
            found = positions >= 0
            same = np.zeros(len(positions), dtype=bool)
            times = ratings["timestamp"].to_numpy()
            same[found] = times[positions[found]] == rows.timestamp[found]
            if not same.all():
                first = int(np.flatnonzero(~same)[0])
                raise DataError(
                    "rating not in u.data",
                    path=path,
                    line=int(rows.line[first]),
                    value=f"user {rows.user_id[first]}, item {rows.movie_id[first]}, "
                    f"timestamp {rows.timestamp[first]}",
                    expected="a rating (same user, item and timestamp) present in u.data",
                )
            parts.append(ratings.iloc[positions])
    return Split(parts[0], parts[1])


def _pair_keys(users: np.ndarray, movies: np.ndarray) -> np.ndarray:
    """One int64 per (user, movie) pair of numeric ids, `[num_rows]`."""
    return users.astype(np.int64) * (1 << 32) + movies.astype(np.int64)
