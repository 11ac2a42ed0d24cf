"""The official ml-100k folds, read from u1..u5, ua, ub."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tfrs_mtl.data.canonical_folds import canonical_folds
from tfrs_mtl.data.errors import DataError
from tfrs_mtl.data.movielens import load_movielens


def test_the_five_u_test_sets_partition_u_data(ml100k_dir: Path) -> None:
    ratings = load_movielens("movielens-100k", ml100k_dir).ratings
    tests = []
    for fold in ("u1", "u2", "u3", "u4", "u5"):
        parts = canonical_folds(ml100k_dir, fold, ratings=ratings)
        assert (len(parts.train), len(parts.test)) == (80_000, 20_000)
        assert not set(parts.train.index) & set(parts.test.index)
        tests.append(parts.test.index.to_numpy())
    assert np.array_equal(np.sort(np.concatenate(tests)), np.arange(100_000))


def test_ua_holds_out_ten_ratings_per_user(ml100k_dir: Path) -> None:
    parts = canonical_folds(ml100k_dir, "ua")
    counts = parts.test["user_id"].value_counts()
    assert len(counts) == 943 and set(counts) == {10}
    assert len(parts.train) == 90_570
    first = parts.test.iloc[0]  # ua.test starts "1 20 4 887431883"
    assert (first["user_id"], first["movie_id"], first["user_rating"]) == ("1", "20", 4.0)


def test_a_fold_row_missing_from_u_data(tmp_path: Path) -> None:
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.item").write_bytes(
        b"1|Toy Story (1995)|01-Jan-1995||url|0|0|0|1|1|1" + b"|0" * 13 + b"\n"
    )
    (folder / "u.user").write_bytes(b"1|24|M|technician|85711\n")
    (folder / "u.data").write_bytes(b"1\t1\t5\t874965758\n")
    (folder / "u1.base").write_bytes(b"1\t1\t5\t874965758\n")
    (folder / "u1.test").write_bytes(b"1\t1\t4\t874965000\n")
    with pytest.raises(DataError, match=r"u1\.test, line 1: rating not in u\.data"):
        canonical_folds(folder, "u1")
