"""Duplicate (user, movie) ratings: keep, last by timestamp, or raise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.data.duplicates import apply_duplicate_policy
from tfrs_mtl.data.errors import DataError, ReadReport


@pytest.fixture
def ratings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["1", "1", "2", "1", "1"],
            "movie_id": ["5", "6", "5", "5", "5"],
            "timestamp": np.asarray([30, 10, 10, 20, 30], np.int64),
        }
    )


def test_keep_changes_nothing(ratings: pd.DataFrame) -> None:
    assert apply_duplicate_policy(ratings, "keep", "f", ReadReport()) is ratings


def test_last_keeps_the_latest_and_file_order_breaks_ties(ratings: pd.DataFrame) -> None:
    report = ReadReport()
    kept = apply_duplicate_policy(ratings, "last", "f", report)
    # (1, 5) at rows 0, 3, 4: timestamps 30, 20, 30; row 4 is the later of the two 30s.
    assert kept.index.tolist() == [1, 2, 4]
    assert report.reasons == {"duplicate (user, movie) rating": 2}


def test_raise_names_the_first_repeat(ratings: pd.DataFrame) -> None:
    lines = np.asarray([2, 3, 4, 5, 6])
    with pytest.raises(DataError, match=r"f, line 5: duplicate rating .*found 'user 1, movie 5'"):
        apply_duplicate_policy(ratings, "raise", "f", ReadReport(), lines=lines)
