"""Feature spec presets for the datasets the project reads (MovieLens TFDS names, e-commerce)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from tfrs_mtl.features.feature_config import FeatureConfig, FeatureSpec


def movielens_feature_spec(
    exclude: Iterable[str] = (),
    embedding_dim: int = 32,
    occupation: Literal["label", "text"] = "label",
    num_time_buckets: int = 100,
    max_title_tokens: int = 5_000,
) -> FeatureSpec:
    """The MovieLens-100K features under their TFDS names (`movielens/100k-ratings`).

    Query side: `user_id` (id), `bucketized_user_age` (categorical, float32 values),
    `user_gender` (categorical, bool), `user_occupation_label` (categorical, int64) or
    `user_occupation_text` (categorical, string), `timestamp` (time). Candidate side:
    `movie_id` (id), `movie_title` (text), `movie_genres` (multi_hot, int64 padded with -1).

    Args:
        exclude: feature names to leave out, e.g. a task's target (the leakage guard);
            unknown names raise `KeyError`.
        embedding_dim: width of every table.
        occupation: encode the occupation from its `label` (int64) or its `text` (string).
        num_time_buckets: quantile buckets of `timestamp`.
        max_title_tokens: word vocabulary size of `movie_title`.

    Example:
        >>> spec = movielens_feature_spec(exclude=("movie_genres",))
    """
    occupation_feature = (
        FeatureConfig(name="user_occupation_label", kind="categorical", side="query", dtype="int64")
        if occupation == "label"
        else FeatureConfig(name="user_occupation_text", kind="categorical", side="query")
    )
    features: tuple[FeatureConfig, ...] = (
        FeatureConfig(name="user_id", kind="id", side="query"),
        FeatureConfig(
            name="bucketized_user_age", kind="categorical", side="query", dtype="float32"
        ),
        FeatureConfig(name="user_gender", kind="categorical", side="query", dtype="bool"),
        occupation_feature,
        FeatureConfig(name="timestamp", kind="time", side="query", num_buckets=num_time_buckets),
        FeatureConfig(name="movie_id", kind="id", side="candidate"),
        FeatureConfig(
            name="movie_title", kind="text", side="candidate", max_tokens=max_title_tokens
        ),
        FeatureConfig(name="movie_genres", kind="multi_hot", side="candidate"),
    )
    features = tuple(f.replace(embedding_dim=embedding_dim) for f in features)
    return FeatureSpec(features=features).without(tuple(exclude))


def ecommerce_feature_spec(
    exclude: Iterable[str] = (),
    embedding_dim: int = 32,
    num_item_hash_bins: int = 0,
    use_price: bool = True,
    ranking_price: bool = False,
) -> FeatureSpec:
    """The e-commerce features of the data layer: `user_id` (query); `item_id`, `category`,
    `brand` (string categoricals) and `price` (numeric, `log1p`) on the candidate side.

    Args:
        exclude: feature names to leave out (unknown names raise `KeyError`).
        embedding_dim: width of every table.
        num_item_hash_bins: 0 looks `item_id` up in its fitted vocabulary; > 0 hashes it into
            this many rows (very large catalogues).
        use_price: include `price` (datasets without prices set False).
        ranking_price: `price` is read by the ranking stack only (`ranking_only`), not by
            the candidate tower (which may then predict it as an attribute).
    """
    features = [
        FeatureConfig(name="user_id", kind="id", side="query"),
        FeatureConfig(
            name="item_id", kind="id", side="candidate", num_hash_bins=num_item_hash_bins
        ),
        FeatureConfig(name="category", kind="categorical", side="candidate"),
        FeatureConfig(name="brand", kind="categorical", side="candidate"),
    ]
    if use_price:
        features.append(
            FeatureConfig(
                name="price",
                kind="numeric",
                side="candidate",
                use_log1p=True,
                ranking_only=ranking_price,
            )
        )
    with_dim = tuple(f.replace(embedding_dim=embedding_dim) for f in features)
    return FeatureSpec(features=with_dim).without(tuple(exclude))
