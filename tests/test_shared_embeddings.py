"""SharedEmbeddings: one variable per table, vocabulary/OOV/hash rows, config round trip."""

from __future__ import annotations

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
        FeatureConfig(name="user_id", kind="id", side="query", embedding_dim=3),
        FeatureConfig(
            name="last_movie_id",
            kind="id",
            side="query",
            table="movie_id",
            embedding_dim=4,
            num_oov_buckets=2,
        ),
        FeatureConfig(
            name="history_genres", kind="multi_hot", side="query", table="genres", embedding_dim=2
        ),
        FeatureConfig(
            name="movie_id", kind="id", side="candidate", embedding_dim=4, num_oov_buckets=2
        ),
        FeatureConfig(
            name="movie_genres", kind="multi_hot", side="candidate", table="genres", embedding_dim=2
        ),
        FeatureConfig(
            name="shop_id", kind="id", side="candidate", num_hash_bins=16, embedding_dim=2
        ),
    )
)
TRAIN = {
    "user_id": np.array(["u1", "u2", "u1"]),
    "last_movie_id": np.array([10, 11, 10], dtype=np.int64),
    "history_genres": np.array([[0, 1], [1, -1], [-1, -1]], dtype=np.int64),
    "movie_id": np.array(["12", "10", "10"]),
    "movie_genres": np.array([[2, -1], [1, 2], [2, -1]], dtype=np.int64),
    "shop_id": np.array(["s1", "s2", "s3"]),
}


@pytest.fixture(scope="module")
def vocabularies() -> FeatureVocabularies:
    return FeatureVocabularies.fit(SPEC, TRAIN)


def test_tables_and_rows(vocabularies: FeatureVocabularies) -> None:
    shared = SharedEmbeddings(SPEC, vocabularies)
    assert shared.table_names == ("user_id", "movie_id", "genres", "shop_id")
    assert vocabularies.tables["movie_id"] == ("10", "11", "12")  # union of both features
    # 1 and 2 tie (x3, across both features), then 0 (x1).
    assert vocabularies.tables["genres"] == ("1", "2", "0")
    assert shared.num_rows("movie_id") == 3 + 2
    assert shared.num_rows("shop_id") == 16
    assert shared.embedding_table("genres").shape == (3 + 1, 2)


def test_string_and_int_ids_map_to_the_same_rows_and_unseen_to_oov(
    vocabularies: FeatureVocabularies,
) -> None:
    shared = SharedEmbeddings(SPEC, vocabularies)
    by_string = shared.lookup("movie_id", tf.constant(["10", "11", "12"])).numpy()
    by_int = shared.lookup("last_movie_id", tf.constant([10, 11, 12], tf.int64)).numpy()
    assert by_string.tolist() == by_int.tolist() == [0, 1, 2]
    unseen = shared.lookup("movie_id", tf.constant(["999", "1000", "", "999"])).numpy()
    assert all(3 <= row < 5 for row in unseen)
    assert unseen[0] == unseen[3]  # an unseen key always lands in the same bucket
    # Which keys have a vocabulary row: exactly those that do not land in a bucket.
    known = shared.in_vocabulary("last_movie_id", tf.constant([[10, 999], [12, 11]], tf.int64))
    assert known.numpy().tolist() == [[True, False], [True, True]]
    with pytest.raises(ValueError, match="hashes its values"):
        shared.in_vocabulary("shop_id", tf.constant(["s1"]))


def test_hashing_path(vocabularies: FeatureVocabularies) -> None:
    shared = SharedEmbeddings(SPEC, vocabularies)
    keys = tf.constant(["s1", "never-seen", "42"])
    expected = tf.strings.to_hash_bucket_fast(keys, 16).numpy()
    assert shared.lookup("shop_id", keys).numpy().tolist() == expected.tolist()
    assert shared.lookup("shop_id", tf.constant([42], tf.int64)).numpy()[0] == expected[2]


def test_one_variable_per_table_in_a_model_with_both_towers(
    vocabularies: FeatureVocabularies,
) -> None:
    shared = SharedEmbeddings(SPEC, vocabularies)
    query = FeatureEncoder(shared, side="query")
    candidate = FeatureEncoder(shared, side="candidate")

    class TwoTowers(tf.keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.query = query
            self.candidate = candidate

        def call(self, features: dict[str, tf.Tensor]) -> tf.Tensor:
            return tf.concat([self.query(features), self.candidate(features)], axis=1)

    model = TwoTowers()
    outputs = model({key: tf.constant(value) for key, value in TRAIN.items()})
    assert outputs.shape == (3, 3 + 4 + 2 + 4 + 2 + 2)
    shapes = sorted(tuple(v.shape.as_list()) for v in model.trainable_variables)
    assert shapes == sorted([(2 + 1, 3), (3 + 2, 4), (3 + 1, 2), (16, 2)])
    movie_tables = [v for v in model.trainable_variables if "movie_id" in v.name]
    assert len(movie_tables) == 1
    assert movie_tables[0] is shared.embedding_table("movie_id")


def test_lookup_inside_tf_data(vocabularies: FeatureVocabularies) -> None:
    shared = SharedEmbeddings(SPEC, vocabularies)
    dataset = tf.data.Dataset.from_tensor_slices({"movie_id": ["12", "10", "nope"]}).batch(2)
    rows = [
        batch.numpy().tolist()
        for batch in dataset.map(lambda x: shared.lookup("movie_id", x["movie_id"]))
    ]
    assert rows[0] == [2, 0]
    assert 3 <= rows[1][0] < 5


def test_config_round_trip(vocabularies: FeatureVocabularies) -> None:
    shared = SharedEmbeddings(SPEC, vocabularies, name="shared")
    rebuilt = SharedEmbeddings.from_config(shared.get_config())
    rebuilt.set_weights(shared.get_weights())
    inputs = {"user_id": tf.constant(["u2", "zzz"]), "movie_id": tf.constant(["11", "10"])}
    expected, actual = shared(inputs), rebuilt(inputs)
    assert sorted(actual) == ["movie_id", "user_id"]
    for name in expected:
        np.testing.assert_array_equal(actual[name].numpy(), expected[name].numpy())
    assert rebuilt.vocabularies.fingerprint() == vocabularies.fingerprint()


def test_missing_vocabulary_is_reported(vocabularies: FeatureVocabularies) -> None:
    extra = FeatureSpec(
        features=(*SPEC.features, FeatureConfig(name="brand", kind="categorical", side="candidate"))
    )
    with pytest.raises(FeatureError, match=r"not fitted for feature\(s\) brand \(table 'brand'\)"):
        SharedEmbeddings(extra, vocabularies)
