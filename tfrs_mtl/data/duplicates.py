"""Duplicate ratings (one user rating one movie several times) and what to do with them.

Policies: `keep` every row (TFDS does: it neither filters nor de-duplicates), keep only the
`last` by timestamp (file order breaks ties), or `raise` a `DataError` at the first repeat.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from tfrs_mtl.data.errors import DataError, ReadReport

Duplicates = Literal["keep", "last", "raise"]
DUPLICATES_CHOICES: tuple[str, ...] = ("keep", "last", "raise")


def apply_duplicate_policy(
    ratings: pd.DataFrame,
    duplicates: Duplicates,
    path: str,
    report: ReadReport,
    lines: np.ndarray | None = None,
) -> pd.DataFrame:
    """Applies `duplicates` to a ratings frame (`user_id`, `movie_id`, `timestamp` columns).

    Args:
        ratings: the frame, in file order.
        duplicates: `keep`, `last` or `raise`.
        path: the ratings file, for messages.
        report: counts the rows `last` drops.
        lines: 1-based file line of each row, for messages; None when unknown.

    Returns:
        The frame, without the dropped rows.
    """
    if duplicates == "keep" or ratings.empty:
        return ratings
    user = pd.factorize(ratings["user_id"])[0].astype(np.int64)
    movie = pd.factorize(ratings["movie_id"])[0].astype(np.int64)
    pair = user * (int(movie.max()) + 1) + movie
    position = np.arange(len(pair))
    order = np.lexsort((position, ratings["timestamp"].to_numpy(), pair))
    sorted_pair = pair[order]
    is_last = np.append(sorted_pair[1:] != sorted_pair[:-1], True)
    num_dropped = int((~is_last).sum())
    if not num_dropped:
        return ratings
    if duplicates == "raise":
        # Name the first line that repeats an earlier (user, movie) pair.
        row = int(np.flatnonzero(pd.Series(pair).duplicated(keep="first").to_numpy())[0])
        where = int(lines[row]) if lines is not None else None
        raise DataError(
            "duplicate rating of one movie by one user",
            path=path,
            line=where,
            value=f"user {ratings['user_id'].iloc[row]}, movie {ratings['movie_id'].iloc[row]}",
            expected="one rating per (user, movie); pass duplicates='keep' or 'last'",
        )
    keep = np.zeros(len(pair), dtype=bool)
    keep[order[is_last]] = True
    report.drop("duplicate (user, movie) rating", count=num_dropped)
    return ratings[keep]
