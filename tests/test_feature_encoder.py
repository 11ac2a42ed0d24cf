"""FeatureEncoder: exact per-kind encodings, masks, sides, tf.function, config round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.features import (
    FeatureConfig,
    FeatureEncoder,
    FeatureError,
    FeatureSpec,
    FeatureVocabularies,
    SharedEmbeddings,
)

SPEC = FeatureSpec(
    features=(
        FeatureConfig(name="user_id", kind="id", side="query", embedding_dim=2),
        FeatureConfig(name="timestamp", kind="time", side="query", embedding_dim=2, num_buckets=3),
        FeatureConfig(name="movie_id", kind="id", side="candidate", embedding_dim=2),
        FeatureConfig(name="genres", kind="multi_hot", side="candidate", embedding_dim=2),
        FeatureConfig(name="title", kind="text", side="candidate", embedding_dim=2),
        FeatureConfig(name="price", kind="numeric", side="candidate", use_log1p=True),
    )
)
DAY = 86_400
TRAIN = {
    "user_id": np.array(["a", "b"]),
    "timestamp": np.array([0, 3 * DAY], dtype=np.int64),
    "movie_id": np.array(["m1", "m2"]),
    "genres": np.array([[4, 5], [4, -1]], dtype=np.int64),  # vocabulary: 4, 5
    "title": np.array(["Toy Story", "toy"]),  # vocabulary: toy, story
    "price": np.array([0.0, np.e**2 - 1]),  # log1p: 0, 2 -> mean 1, std 1
}


@pytest.fixture()
def shared() -> SharedEmbeddings:
    """Tables whose row r is [r + 1, 10 (r + 1)] (OOV rows too): hand-computable encodings."""
    layer = SharedEmbeddings(SPEC, FeatureVocabularies.fit(SPEC, TRAIN))
    for table in layer.table_names:
        rows = np.arange(1, layer.num_rows(table) + 1, dtype=np.float32)
        layer.embedding_table(table).assign(np.stack([rows, 10 * rows], axis=1))
    return layer


def test_multi_hot_mean_ignores_padding_and_accepts_ragged(shared: SharedEmbeddings) -> None:
    encoder = FeatureEncoder(shared, feature_names=("genres",))
    padded = encoder({"genres": tf.constant([[4, 5, -1], [5, -1, -1], [-1, -1, -1], [9, -1, -1]])})
    # rows: 4 -> 0, 5 -> 1, unseen 9 -> OOV row 2; an all-padding row gives zeros.
    np.testing.assert_allclose(padded.numpy(), [[1.5, 15.0], [2.0, 20.0], [0, 0], [3.0, 30.0]])
    ragged = encoder({"genres": tf.ragged.constant([[4, 5], [5], [], [9]], dtype=tf.int64)})
    np.testing.assert_array_equal(ragged.numpy(), padded.numpy())


def test_text_is_tokenized_and_mean_pooled(shared: SharedEmbeddings) -> None:
    encoder = FeatureEncoder(shared, feature_names=("title",))
    encoded = encoder({"title": tf.constant(["TOY story!", "Toy", "", "Alien"])})
    # toy -> 0, story -> 1, unknown "alien" -> OOV row 2.
    np.testing.assert_allclose(encoded.numpy(), [[1.5, 15.0], [1.0, 10.0], [0, 0], [3.0, 30.0]])


def test_numeric_is_standardized_after_log1p(shared: SharedEmbeddings) -> None:
    encoder = FeatureEncoder(shared, feature_names=("price",))
    encoded = encoder({"price": tf.constant([0.0, math.e - 1, math.e**3 - 1])})
    np.testing.assert_allclose(encoded.numpy(), [[-1.0], [0.0], [2.0]], atol=1e-6)


def test_time_bucket_standardized_value_and_cycles(shared: SharedEmbeddings) -> None:
    encoder = FeatureEncoder(shared, feature_names=("timestamp",))
    # Edges at 1 and 2 days; mean 1.5 days, std 1.5 days. 1970-01-05 is a Monday.
    monday_six_am = 4 * DAY + 6 * 3600
    encoded = encoder({"timestamp": tf.constant([0, monday_six_am], tf.int64)}).numpy()
    assert encoder.output_dim == 2 + 5
    thursday = 3 / 7 * 2 * math.pi
    np.testing.assert_allclose(
        encoded[0], [1, 10, -1.0, 0.0, 1.0, math.sin(thursday), math.cos(thursday)], atol=1e-6
    )
    standardized = (monday_six_am - 1.5 * DAY) / (1.5 * DAY)
    np.testing.assert_allclose(encoded[1], [3.0, 30.0, standardized, 1.0, 0.0, 0.0, 1.0], atol=1e-6)


def test_sides_concatenate_in_declared_order_and_ignore_extra_keys(
    shared: SharedEmbeddings,
) -> None:
    query, candidate = (
        FeatureEncoder(shared, side="query"),
        FeatureEncoder(shared, side="candidate"),
    )
    assert query.encoded_feature_names == ("user_id", "timestamp")
    assert candidate.encoded_feature_names == ("movie_id", "genres", "title", "price")
    features = {key: tf.constant(value) for key, value in TRAIN.items()}
    features["label"] = tf.constant([1.0, 0.0])
    encoded = candidate(features)
    assert encoded.shape == (2, candidate.output_dim) == (2, 2 + 2 + 2 + 1)
    np.testing.assert_allclose(encoded.numpy()[:, :2], [[1, 10], [2, 20]])  # movie_id rows
    assert query(features).shape == (2, 2 + 7)


def test_works_inside_tf_function_with_int_or_string_ids(shared: SharedEmbeddings) -> None:
    encoder = FeatureEncoder(shared, feature_names=("user_id", "genres"))
    encode = tf.function(encoder)
    as_strings = encode({"user_id": tf.constant(["b", "zz"]), "genres": tf.constant([[5], [4]])})
    eager = encoder({"user_id": tf.constant(["b", "zz"]), "genres": tf.constant([[5], [4]])})
    np.testing.assert_array_equal(as_strings.numpy(), eager.numpy())
    np.testing.assert_allclose(as_strings.numpy(), [[2, 20, 2, 20], [3, 30, 1, 10]])


def test_missing_feature_names_the_feature(shared: SharedEmbeddings) -> None:
    encoder = FeatureEncoder(shared, side="query")
    with pytest.raises(FeatureError, match="'timestamp' \\(query side\\) is missing"):
        encoder({"user_id": tf.constant(["a"])})
    with pytest.raises(FeatureError, match="exactly one of side= or feature_names="):
        FeatureEncoder(shared)


def test_config_round_trip(shared: SharedEmbeddings) -> None:
    encoder = FeatureEncoder(shared, side="candidate", name="candidate_features")
    rebuilt = FeatureEncoder.from_config(encoder.get_config())
    rebuilt.shared_embeddings.set_weights(shared.get_weights())
    features = {key: tf.constant(value) for key, value in TRAIN.items()}
    np.testing.assert_array_equal(rebuilt(features).numpy(), encoder(features).numpy())
    assert rebuilt.name == "candidate_features"
