"""`describe_dataset` and `format_description`: what `tfrs-mtl data describe` prints."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tfrs_mtl.data.movielens import MovieLensData
from tfrs_mtl.data.movielens_schema import GENRE_NAMES
from tfrs_mtl.data.tensors import list_column_parts


def describe_dataset(data: Any, *, num_top: int = 10) -> dict[str, Any]:
    """JSON-ready summary statistics of a loaded dataset.

    Args:
        data: a `MovieLensData`, or an e-commerce `EventLog` (anything with an `events` frame
            holding `user_id` and `item_id`, or a `log` that is one, as the synthetic
            generator returns), which `events.describe_event_log` summarises.
        num_top: how many genres (or categories) to list.

    Returns:
        For MovieLens: `name`, `source`, `num_ratings`, `num_users`, `num_items`,
        `num_catalogue_items`, `sparsity` (1 - distinct user-item pairs / (users * items)),
        `rating_histogram` (`{"1.0": count, ...}`), `mean_rating`, `time_range` (first and last
        unix second) and `top_genres` (`[[genre, num_ratings], ...]`, most rated first).
        For event logs: `num_events` and the other keys of `describe_event_log`.

    Example:
        >>> print(format_description(describe_dataset(load_movielens())))  # doctest: +SKIP
    """
    if isinstance(data, MovieLensData):
        return _describe_movielens(data, num_top)
    if hasattr(data, "log") and not hasattr(data, "events"):  # generator output wraps its log
        data = data.log
    if isinstance(getattr(data, "events", None), pd.DataFrame):
        from tfrs_mtl.data.events import describe_event_log

        return describe_event_log(data, num_top_categories=num_top)
    raise TypeError(
        f"cannot describe {type(data).__name__}; expected a MovieLensData or an EventLog"
    )


def _describe_movielens(data: MovieLensData, num_top: int) -> dict[str, Any]:
    ratings = data.ratings
    users = pd.factorize(ratings["user_id"])[0].astype(np.int64)
    items = pd.factorize(ratings["movie_id"])[0].astype(np.int64)
    num_users = int(users.max()) + 1 if len(users) else 0
    num_items = int(items.max()) + 1 if len(items) else 0
    num_pairs = int(np.unique(users * max(num_items, 1) + items).size)
    cells = num_users * num_items
    histogram = ratings["user_rating"].value_counts().sort_index()
    genres, _ = list_column_parts(ratings["movie_genres"])
    genre_counts = np.bincount(genres, minlength=len(GENRE_NAMES))
    top = np.argsort(-genre_counts, kind="stable")[:num_top]
    stamps = ratings["timestamp"]
    return {
        "name": data.name,
        "source": data.source,
        "num_ratings": len(ratings),
        "num_users": num_users,
        "num_items": num_items,
        "num_catalogue_items": len(data.movies),
        "sparsity": 1.0 - num_pairs / cells if cells else 0.0,
        "rating_histogram": {f"{value:.1f}": int(count) for value, count in histogram.items()},
        "mean_rating": float(ratings["user_rating"].mean()) if len(ratings) else None,
        "time_range": [int(stamps.min()), int(stamps.max())] if len(stamps) else None,
        "top_genres": [
            [GENRE_NAMES[index], int(genre_counts[index])] for index in top if genre_counts[index]
        ],
        "read_report": data.report.summary(),
    }


def format_description(description: dict[str, Any]) -> str:
    """A two-column text table of `describe_dataset`'s dict, for the terminal.

    Counts get thousands separators, fractions four decimals; histograms and top lists are
    shown one entry per line under their key.
    """
    lines: list[str] = []
    width = max((len(key) for key in description), default=0)
    for key, value in description.items():
        if isinstance(value, dict):
            lines.append(key)
            lines.extend(
                f"  {name:<{width - 2}}  {_format(count)}" for name, count in value.items()
            )
        elif isinstance(value, list) and value and isinstance(value[0], list | tuple):
            lines.append(key)
            lines.extend(f"  {entry[0]!s:<{width - 2}}  {_format(entry[1])}" for entry in value)
        else:
            lines.append(f"{key:<{width}}  {_format(value)}")
    return "\n".join(lines)


def _format(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.4f}"
    if isinstance(value, list):
        return " .. ".join(_format(item) for item in value)
    return str(value)
