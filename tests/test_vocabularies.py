"""FeatureVocabularies: fitted on training data only, ordered, JSON round trip, fingerprint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tfrs_mtl.features import (
    FeatureConfig,
    FeatureError,
    FeatureSpec,
    FeatureVocabularies,
)

SPEC = FeatureSpec(
    features=(
        FeatureConfig(name="user_id", kind="id", side="query"),
        FeatureConfig(name="history", kind="multi_hot", side="query", table="genres"),
        FeatureConfig(name="timestamp", kind="time", side="query", num_buckets=4),
        FeatureConfig(name="movie_id", kind="id", side="candidate", num_hash_bins=16),
        FeatureConfig(name="title", kind="text", side="candidate", max_tokens=3),
        FeatureConfig(name="genres", kind="multi_hot", side="candidate", table="genres"),
        FeatureConfig(name="price", kind="numeric", side="candidate", use_log1p=True),
    )
)


def _train() -> dict[str, np.ndarray]:
    return {
        "user_id": np.array([3, 1, 3, 2], dtype=np.int64),
        "history": np.array([[5, -1], [5, 6], [-1, -1], [7, -1]], dtype=np.int64),
        "timestamp": np.array([0, 10, 20, 30], dtype=np.int64),
        "movie_id": np.array(["a", "b", "c", "d"]),
        "title": np.array(["The Heat", "the Matrix", "Heat!", "Up"]),
        "genres": np.array([[6, -1], [6, 5], [6, -1], [8, -1]], dtype=np.int64),
        "price": np.array([0.0, np.e - 1, np.e**2 - 1, np.e**3 - 1]),
        "label": np.array([1, 0, 1, 0]),
    }


def test_fit_orders_by_frequency_then_value() -> None:
    vocabularies = FeatureVocabularies.fit(SPEC, _train())
    assert vocabularies.tables["user_id"] == ("3", "1", "2")
    # The shared table is fitted on both features: 6 x4, 5 x3, 7 x1, 8 x1.
    assert vocabularies.tables["genres"] == ("6", "5", "7", "8")
    # max_tokens=3 keeps the most frequent tokens: heat x2, the x2, then matrix < up.
    assert vocabularies.tables["title"] == ("heat", "the", "matrix")
    assert "movie_id" not in vocabularies.tables  # hashed: no vocabulary
    assert "label" not in vocabularies.tables  # not a declared feature


def test_numeric_and_time_statistics() -> None:
    vocabularies = FeatureVocabularies.fit(SPEC, _train())
    price = vocabularies.numeric["price"]
    assert price.mean == pytest.approx(1.5)  # log1p gives 0, 1, 2, 3
    assert price.std == pytest.approx(np.std([0, 1, 2, 3]))
    time = vocabularies.time["timestamp"]
    assert time.bucket_edges == (7.5, 15.0, 22.5)  # quartiles of 0, 10, 20, 30
    assert time.mean == 15.0


def test_only_training_values_enter_the_vocabulary() -> None:
    train = _train()
    test_only = {**train, "user_id": np.array([99, 3], dtype=np.int64)}
    assert "99" in FeatureVocabularies.fit(SPEC, test_only).tables["user_id"]
    assert "99" not in FeatureVocabularies.fit(SPEC, train).tables["user_id"]


def test_json_round_trip_and_fingerprint(tmp_path: Path) -> None:
    vocabularies = FeatureVocabularies.fit(SPEC, _train())
    path = tmp_path / "vocabularies.json"
    vocabularies.save(path)
    loaded = FeatureVocabularies.load(path)
    assert loaded == vocabularies
    assert loaded.fingerprint() == vocabularies.fingerprint()
    assert FeatureVocabularies.fit(SPEC, _train()).fingerprint() == vocabularies.fingerprint()
    changed = _train()
    changed["user_id"] = np.array([3, 1, 3, 4], dtype=np.int64)
    assert FeatureVocabularies.fit(SPEC, changed).fingerprint() != vocabularies.fingerprint()


def test_ragged_multi_hot_fits_like_padded() -> None:
    spec = FeatureSpec(features=(FeatureConfig(name="g", kind="multi_hot", side="candidate"),))
    ragged = np.empty(3, dtype=object)
    ragged[:] = [[2, 1], [1], []]
    padded = np.array([[2, 1], [1, -1], [-1, -1]])
    assert (
        FeatureVocabularies.fit(spec, {"g": ragged}).tables
        == FeatureVocabularies.fit(spec, {"g": padded}).tables
        == {"g": ("1", "2")}
    )


def test_errors_name_the_feature() -> None:
    train = _train()
    del train["price"]
    with pytest.raises(FeatureError, match="'price' is declared but missing"):
        FeatureVocabularies.fit(SPEC, train)
    bad = {**_train(), "price": np.array([1.0, np.nan, 2.0, 3.0])}
    with pytest.raises(FeatureError, match="'price': found non-finite value nan"):
        FeatureVocabularies.fit(SPEC, bad)
    vocabularies = FeatureVocabularies.fit(SPEC.without(["price"]), _train())
    with pytest.raises(FeatureError, match=r"not fitted for feature\(s\) price;"):
        vocabularies.check_fitted(SPEC)


def test_max_vocabulary_size_keeps_the_most_frequent_values() -> None:
    spec = FeatureSpec(
        features=(
            FeatureConfig(
                name="brand", kind="categorical", side="candidate", max_vocabulary_size=2
            ),
        )
    )
    brands = np.array(["c", "a", "b", "c", "b", "c", "d"])
    assert FeatureVocabularies.fit(spec, {"brand": brands}).tables == {"brand": ("c", "b")}
