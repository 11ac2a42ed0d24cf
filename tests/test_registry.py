"""`load_dataset`: one entry point for every dataset name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfrs_mtl.data.movielens import MovieLensData
from tfrs_mtl.data.registry import DATASET_NAMES, load_dataset, validate_dataset


def test_names() -> None:
    assert DATASET_NAMES[:5] == (
        "movielens-100k",
        "movielens-1m",
        "movielens-latest-small",
        "movielens-20m",
        "movielens-25m",
    )
    assert {"retailrocket", "taobao-userbehavior", "synthetic-ecommerce"} <= set(DATASET_NAMES)


def test_movielens_dispatch_passes_options(tmp_path: Path) -> None:
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n1,A (1995),Drama\n")
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,1\n1,1,9.0,2\n")
    with pytest.warns(UserWarning, match="dropped 1"):
        data = load_dataset("movielens-latest-small", tmp_path, on_bad_rows="skip")
    assert isinstance(data, MovieLensData) and len(data.ratings) == 1


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'movielens'"):
        load_dataset("movielens")


def test_the_generator_takes_no_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="takes no data_dir"):
        load_dataset("synthetic-ecommerce", tmp_path)


def test_validate_collects_every_bad_row(tmp_path: Path) -> None:
    (tmp_path / "movies.csv").write_text("movieId,title,genres\n1,A (1995),Drama\n")
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,4.0,1\n1,1,9.0,2\nx,1,4.0,3\n2,7,4.0,4\n"
    )
    report = validate_dataset("movielens-latest-small", tmp_path)
    assert report.reasons == {
        "non-numeric id": 1,
        "rating out of range": 1,
        "movie not in catalogue": 1,
    }
    assert report.examples[0].startswith(f"{tmp_path / 'ratings.csv'}, line 4, column 'userId'")
