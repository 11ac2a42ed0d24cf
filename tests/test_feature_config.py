"""FeatureConfig / FeatureSpec validation, sides, shared tables and presets."""

from __future__ import annotations

import pytest

from tfrs_mtl.config import ConfigError
from tfrs_mtl.features import (
    FeatureConfig,
    FeatureSpec,
    ecommerce_feature_spec,
    movielens_feature_spec,
)


def _spec(*features: FeatureConfig) -> FeatureSpec:
    return FeatureSpec(features=features)


def test_sides_and_defaults() -> None:
    spec = _spec(
        FeatureConfig(name="user_id", kind="id", side="query"),
        FeatureConfig(name="movie_id", kind="id", side="candidate"),
        FeatureConfig(name="genres", kind="multi_hot", side="candidate", table="g"),
    )
    assert [f.name for f in spec.query_features] == ["user_id"]
    assert [f.name for f in spec.candidate_features] == ["movie_id", "genres"]
    assert spec.feature("genres").table_name == "g"
    assert spec.feature("movie_id").table_name == "movie_id"
    assert spec.feature("genres").raw_dtype == "int64"
    assert spec.feature("user_id").raw_dtype == "string"


def test_round_trip_through_dict() -> None:
    spec = movielens_feature_spec()
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (
            (
                FeatureConfig(name="a", kind="id", side="query"),
                FeatureConfig(name="a", kind="id", side="candidate"),
            ),
            "duplicate feature names ['a']",
        ),
        (
            (
                FeatureConfig(name="a", kind="id", side="query", table="t"),
                FeatureConfig(name="b", kind="id", side="candidate", table="t", embedding_dim=8),
            ),
            "shares table 't' with 'a'",
        ),
        (
            (
                FeatureConfig(name="a", kind="text", side="query", table="t"),
                FeatureConfig(name="b", kind="id", side="candidate", table="t"),
            ),
            "shares table 't' with 'a'",
        ),
    ],
)
def test_spec_rejects_inconsistent_features(
    features: tuple[FeatureConfig, ...], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        FeatureSpec(features=features)


def test_feature_rejects_bad_values_naming_them() -> None:
    with pytest.raises(ConfigError, match="feature 'x': embedding_dim=0 must be > 0"):
        FeatureConfig(name="x", kind="id", side="query", embedding_dim=0)
    with pytest.raises(ConfigError, match="num_oov_buckets=0 must be >= 1"):
        FeatureConfig(name="x", kind="id", side="query", num_oov_buckets=0)
    with pytest.raises(ConfigError, match="use_log1p=True only applies to numeric"):
        FeatureConfig(name="x", kind="id", side="query", use_log1p=True)
    with pytest.raises(ConfigError, match="expected one of"):
        FeatureConfig.from_dict({"name": "x", "kind": "image", "side": "query"})
    # Hashing needs no OOV bucket.
    FeatureConfig(name="x", kind="id", side="query", num_oov_buckets=0, num_hash_bins=8)


def test_shared_lookup_table_across_sides_is_allowed() -> None:
    spec = _spec(
        FeatureConfig(name="history_genres", kind="multi_hot", side="query", table="genres"),
        FeatureConfig(name="movie_genres", kind="multi_hot", side="candidate", table="genres"),
    )
    assert list(spec.table_features()) == ["genres"]
    assert len(spec.table_features()["genres"]) == 2


def test_movielens_preset_sides_and_exclude() -> None:
    spec = movielens_feature_spec()
    assert [f.name for f in spec.query_features] == [
        "user_id",
        "bucketized_user_age",
        "user_gender",
        "user_occupation_label",
        "timestamp",
    ]
    assert [f.name for f in spec.candidate_features] == ["movie_id", "movie_title", "movie_genres"]
    assert spec.feature("movie_title").kind == "text"
    assert spec.feature("movie_genres").kind == "multi_hot"
    assert spec.feature("timestamp").kind == "time"
    excluded = movielens_feature_spec(exclude=("movie_genres",), occupation="text")
    assert "movie_genres" not in excluded.names
    assert "user_occupation_text" in excluded.names
    with pytest.raises(KeyError, match="'not_a_feature' is not declared"):
        movielens_feature_spec(exclude=("not_a_feature",))


def test_ecommerce_preset() -> None:
    spec = ecommerce_feature_spec(num_item_hash_bins=1000)
    assert [f.name for f in spec.query_features] == ["user_id"]
    assert [f.name for f in spec.candidate_features] == ["item_id", "category", "brand", "price"]
    assert spec.feature("item_id").num_hash_bins == 1000
    assert spec.feature("price").use_log1p
    assert "brand" not in ecommerce_feature_spec(exclude=["brand"]).names
