"""QueryTower / CandidateTower: shapes, L2 norm, dropout, shared tables, config round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.config import ConfigError
from tfrs_mtl.features import (
    FeatureConfig,
    FeatureSpec,
    FeatureVocabularies,
    SharedEmbeddings,
    feature_signature,
)
from tfrs_mtl.layers import CandidateTower, QueryTower, TowerConfig

SPEC = FeatureSpec(
    features=(
        FeatureConfig(name="user_id", kind="id", side="query", embedding_dim=4),
        FeatureConfig(
            name="history_genres", kind="multi_hot", side="query", table="genres", embedding_dim=3
        ),
        FeatureConfig(name="movie_id", kind="id", side="candidate", embedding_dim=4),
        FeatureConfig(
            name="movie_genres", kind="multi_hot", side="candidate", table="genres", embedding_dim=3
        ),
        FeatureConfig(name="price", kind="numeric", side="candidate"),
    )
)
FEATURES = {
    "user_id": np.array(["u1", "u2", "u3"]),
    "history_genres": np.array([[1, 2], [2, -1], [-1, -1]], dtype=np.int64),
    "movie_id": np.array(["m1", "m2", "m1"]),
    "movie_genres": np.array([[3, -1], [1, 3], [2, -1]], dtype=np.int64),
    "price": np.array([1.0, 2.0, 3.0], dtype=np.float32),
}


@pytest.fixture(scope="module")
def shared() -> SharedEmbeddings:
    return SharedEmbeddings(SPEC, FeatureVocabularies.fit(SPEC, FEATURES))


def _inputs() -> dict[str, tf.Tensor]:
    return {key: tf.constant(value) for key, value in FEATURES.items()}


def test_shapes_and_l2_norm(shared: SharedEmbeddings) -> None:
    query = QueryTower(shared, **TowerConfig(hidden_dims=(8,), output_dim=5).to_dict())
    candidate = CandidateTower(shared, hidden_dims=(), output_dim=5, use_l2_norm=True)
    assert query(_inputs()).shape == (3, 5)
    assert query.encoded_feature_names == ("user_id", "history_genres")
    normalized = candidate(_inputs()).numpy()
    np.testing.assert_allclose(np.linalg.norm(normalized, axis=1), 1.0, rtol=1e-5)


def test_dropout_only_in_training(shared: SharedEmbeddings) -> None:
    tower = QueryTower(shared, hidden_dims=(64,), output_dim=4, dropout=0.5)
    inference = [tower(_inputs(), training=False).numpy() for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    assert not np.array_equal(tower(_inputs(), training=True).numpy(), inference[0])


def test_both_towers_read_one_variable_per_table(shared: SharedEmbeddings) -> None:
    query = QueryTower(shared, hidden_dims=(), output_dim=4)
    candidate = CandidateTower(shared, hidden_dims=(), output_dim=4)

    class Model(tf.keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.query, self.candidate = query, candidate

        def call(self, features: dict[str, tf.Tensor]) -> tf.Tensor:
            return tf.reduce_sum(self.query(features) * self.candidate(features), axis=1)

    model = Model()
    model(_inputs())
    tables = [v for v in model.trainable_variables if v.name.endswith("_embeddings:0")]
    assert sorted(v.name for v in tables) == [
        "genres_embeddings:0",
        "movie_id_embeddings:0",
        "user_id_embeddings:0",
    ]
    genres = next(v for v in tables if v.name.startswith("genres"))
    assert genres is shared.embedding_table("genres")
    # Two projections (kernel + bias each) besides the three tables.
    assert len(model.trainable_variables) == 3 + 4


@pytest.mark.parametrize("tower_class", [QueryTower, CandidateTower])
def test_config_round_trip(shared: SharedEmbeddings, tower_class: type) -> None:
    tower = tower_class(shared, hidden_dims=(6,), output_dim=3, use_l2_norm=True, name="tower")
    expected = tower(_inputs()).numpy()
    rebuilt = tower_class.from_config(tower.get_config())
    rebuilt(_inputs())
    rebuilt.set_weights(tower.get_weights())
    np.testing.assert_array_equal(rebuilt(_inputs()).numpy(), expected)
    assert rebuilt.get_config()["hidden_dims"] == [6]


def test_tower_exports_as_saved_model_with_lookup_tables(
    shared: SharedEmbeddings, tmp_path: Path
) -> None:
    tower = CandidateTower(shared, hidden_dims=(4,), output_dim=3)
    signature = feature_signature(SPEC, "candidate")
    module = tf.Module()
    module.tower = tower
    module.serve = tf.function(lambda features: tower(features), input_signature=[signature])
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.serve})
    loaded = tf.saved_model.load(str(tmp_path))
    inputs = {name: tf.constant(FEATURES[name]) for name in signature}
    inputs["movie_id"] = tf.constant(["m1", "never-seen", "m2"])
    restored = loaded.signatures["serving_default"](**inputs)["output_0"]
    np.testing.assert_allclose(restored.numpy(), tower(inputs).numpy(), rtol=1e-6)


def test_gradients_of_both_towers_reach_the_one_shared_table(shared: SharedEmbeddings) -> None:
    query = QueryTower(shared, hidden_dims=(), output_dim=2)
    candidate = CandidateTower(shared, hidden_dims=(), output_dim=2)
    table = shared.embedding_table("genres")
    row_of = {key: i for i, key in enumerate(shared.vocabularies.tables["genres"])}
    with tf.GradientTape(persistent=True) as tape:
        query_sum = tf.reduce_sum(query(_inputs()))
        candidate_sum = tf.reduce_sum(candidate(_inputs()))
    query_rows = np.abs(tf.convert_to_tensor(tape.gradient(query_sum, table)).numpy()).sum(1)
    candidate_rows = np.abs(tf.convert_to_tensor(tape.gradient(candidate_sum, table)).numpy())
    # Genre 3 appears only among the candidates' genres, genres 1 and 2 in both.
    assert query_rows[row_of["3"]] == 0
    assert query_rows[row_of["1"]] > 0 and query_rows[row_of["2"]] > 0
    assert candidate_rows.sum(1)[row_of["3"]] > 0


def test_bias_dimension_adds_each_items_bias_to_the_dot_product(shared: SharedEmbeddings) -> None:
    config = TowerConfig(hidden_dims=(), output_dim=5, use_l2_norm=True, use_bias_dimension=True)
    query = QueryTower(shared, **config.to_dict())
    candidate = CandidateTower(shared, **config.to_dict(), id_feature="movie_id")
    candidate(_inputs())
    rows = shared.lookup("movie_id", tf.constant(FEATURES["movie_id"])).numpy()
    biases = np.arange(candidate.item_bias.shape[0], dtype=np.float32)[:, None] / 10
    candidate.item_bias.assign(biases)
    queries, items = query(_inputs()).numpy(), candidate(_inputs()).numpy()
    assert queries.shape == items.shape == (3, 6)
    np.testing.assert_array_equal(queries[:, -1], 1.0)
    np.testing.assert_allclose(items[:, -1], biases[rows, 0])
    np.testing.assert_allclose(np.linalg.norm(items[:, :-1], axis=1), 1.0, rtol=1e-5)
    cosines = (queries[:, :-1] * items[:, :-1]).sum(axis=1)
    np.testing.assert_allclose((queries * items).sum(axis=1), cosines + biases[rows, 0], rtol=1e-5)
    with pytest.raises(ValueError, match="use_bias_dimension=True needs id_feature="):
        CandidateTower(shared, **config.to_dict())(_inputs())


def test_identity_feature_puts_its_own_embedding_beside_the_mlp(shared: SharedEmbeddings) -> None:
    inputs = _inputs()
    tower = CandidateTower(
        shared,
        hidden_dims=(),
        output_dim=5,
        use_l2_norm=True,
        identity_feature="movie_genres",
    )
    out = tower(inputs).numpy()
    assert out.shape == (3, 3 + 5)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    encoded = tower.encoder(inputs).numpy()
    genres = encoded[:, 4:7]  # movie_id (4), movie_genres (3), price (1)
    expected = genres / np.linalg.norm(genres, axis=1, keepdims=True) / np.sqrt(2)
    np.testing.assert_allclose(out[:, :3], expected, rtol=1e-5, atol=1e-6)
    mlp = tower.projection(tower.encoder(inputs)).numpy()
    expected = mlp / np.linalg.norm(mlp, axis=1, keepdims=True) / np.sqrt(2)
    np.testing.assert_allclose(out[:, 3:], expected, rtol=1e-5, atol=1e-6)
    rebuilt = CandidateTower.from_config(tower.get_config())
    assert rebuilt.identity_feature == "movie_genres"


def test_identity_feature_must_be_read_by_the_tower(shared: SharedEmbeddings) -> None:
    with pytest.raises(ValueError, match="identity_feature='movie_id' is not one of its"):
        QueryTower(shared, output_dim=4, use_l2_norm=True, identity_feature="movie_id")


def test_identity_feature_needs_l2_norm() -> None:
    with pytest.raises(ConfigError, match="identity_feature='user_history' needs use_l2_norm"):
        TowerConfig(identity_feature="user_history")


def test_a_retrieval_query_of_which_nothing_is_known_keeps_the_bias_column_alone(
    shared: SharedEmbeddings,
) -> None:
    tower = QueryTower(
        shared, hidden_dims=(), output_dim=4, use_l2_norm=True, use_bias_dimension=True
    )
    # Row 0: known id and history; 1: unknown id, a history; 2: known id, no history;
    # 3: unknown id, no history (nothing known).
    inputs = {
        "user_id": tf.constant(["u1", "stranger", "u2", "stranger"]),
        "history_genres": tf.constant([[1, 2], [2, -1], [-1, -1], [-1, -1]], tf.int64),
    }
    plain = tower(inputs).numpy()
    retrieval = tower(inputs, retrieval_query=True).numpy()
    np.testing.assert_allclose(retrieval[:3], plain[:3], atol=1e-6)
    assert np.abs(plain[3, :-1]).sum() > 0  # the untrained direction it would have had
    np.testing.assert_array_equal(retrieval[3], [0.0, 0.0, 0.0, 0.0, 1.0])
    # Training steps and the ranking stack read the tower's plain output.
    np.testing.assert_allclose(
        tower(inputs, training=True, retrieval_query=True).numpy(), plain, atol=1e-6
    )
    np.testing.assert_array_equal(tower.nothing_known(inputs).numpy(), [False] * 3 + [True])
    # A feature that always holds something (a number) leaves every row known.
    priced = CandidateTower(shared, hidden_dims=(), output_dim=4, feature_names=("price",))
    assert priced.nothing_known({"price": tf.constant([1.0])}) is None
