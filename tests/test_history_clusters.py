"""Clustered pooling of long histories (`TowerConfig.history_clusters`): the k-means against
hand-computed and independently computed directions, the tower's rule, config errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.config import ConfigError
from tfrs_mtl.features import FeatureConfig, FeatureSpec, FeatureVocabularies, SharedEmbeddings
from tfrs_mtl.layers import QueryTower, TowerConfig
from tfrs_mtl.layers.history_clusters import clustered_directions


def _directions(rows: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    return clustered_directions(
        tf.constant(rows, tf.float32), tf.constant(mask), num_clusters=k
    ).numpy()


def test_two_interests_weighted_by_their_share_of_the_history() -> None:
    # Three movies along e1 (of different norms), one along e2, two padding slots holding
    # garbage: K=2 finds the two directions, weighted 3/4 and 1/4.
    rows = np.array(
        [[[2, 0, 0], [0.5, 0, 0], [1, 0.01, 0], [0, 3, 0], [9, 9, 9], [-9, 1, 1]]], np.float64
    )
    mask = np.array([[True, True, True, True, False, False]])
    out = _directions(rows, mask, 2)[0]
    e1_cluster = np.array([3.0, 0.01, 0.0])  # sum of the unit rows along e1, ~3 e1
    e1_cluster /= np.linalg.norm(e1_cluster)
    np.testing.assert_allclose(out, 0.75 * e1_cluster + 0.25 * np.array([0, 1, 0]), atol=1e-5)
    # The plain normalised mean would be ~(0.95, 0.32, 0): the tight cluster dominates less.
    assert np.linalg.norm(out) < 1.0


def test_one_cluster_is_the_normalised_mean_of_the_unit_rows() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(2, 7, 4))
    mask = np.ones((2, 7), bool)
    mask[1, 5:] = False
    unit = rows / np.linalg.norm(rows, axis=-1, keepdims=True) * mask[..., None]
    mean = unit.sum(1)
    np.testing.assert_allclose(
        _directions(rows, mask, 1), mean / np.linalg.norm(mean, axis=1, keepdims=True), atol=1e-5
    )


def _reference(rows: np.ndarray, k: int, iterations: int = 20) -> np.ndarray:
    """The documented algorithm in numpy, one history at a time."""
    x = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    mean = x.mean(0) / np.linalg.norm(x.mean(0))
    chosen = [int((x @ mean).argmax())]
    for _ in range(k - 1):
        chosen.append(int((x @ x[chosen].T).max(1).argmin()))
    centroids = x[chosen].copy()
    for _ in range(iterations):
        assigned = (x @ centroids.T).argmax(1)
        for c in range(k):
            if (assigned == c).any():
                total = x[assigned == c].sum(0)
                centroids[c] = total / np.linalg.norm(total)
    shares = np.bincount((x @ centroids.T).argmax(1), minlength=k) / len(x)
    return shares @ centroids


@pytest.mark.parametrize("k", [2, 3])
def test_batched_k_means_matches_a_per_history_reference(k: int) -> None:
    rng = np.random.default_rng(k)
    lengths = [30, 12, 25]
    rows = rng.normal(size=(3, 30, 8))
    mask = np.arange(30)[None, :] < np.array(lengths)[:, None]
    out = _directions(rows, mask, k)
    for row, length in enumerate(lengths):
        np.testing.assert_allclose(out[row], _reference(rows[row, :length], k), atol=1e-5)


def test_an_empty_history_gives_zeros() -> None:
    out = _directions(np.ones((1, 3, 2)), np.zeros((1, 3), bool), 2)
    np.testing.assert_array_equal(out, np.zeros((1, 2)))


SPEC = FeatureSpec(
    features=(
        FeatureConfig(name="user_id", kind="id", side="query", embedding_dim=4),
        FeatureConfig(
            name="user_history", kind="multi_hot", side="query", table="movie_id", embedding_dim=4
        ),
        FeatureConfig(name="movie_id", kind="id", side="candidate", embedding_dim=4),
    )
)
MOVIES = np.array([str(m) for m in range(1, 9)], dtype=object)


@pytest.fixture(scope="module")
def shared() -> SharedEmbeddings:
    arrays = {
        "user_id": np.array(["a", "b", "c"], dtype=object),
        "user_history": np.array([[1, 2, 3, 4], [5, -1, -1, -1], [6, 7, -1, -1]]),
        "movie_id": MOVIES[:3],
    }
    return SharedEmbeddings(SPEC, FeatureVocabularies.fit(SPEC, arrays))


def _tower(shared: SharedEmbeddings, clusters: int) -> QueryTower:
    config = TowerConfig(
        hidden_dims=(),
        output_dim=3,
        use_l2_norm=True,
        identity_feature="user_history",
        history_clusters=clusters,
        history_clusters_min_length=3,
    )
    return QueryTower(shared, **config.to_dict())


def test_the_tower_clusters_only_histories_of_the_minimum_length(shared: SharedEmbeddings) -> None:
    histories = np.array([[1, 2, 3, 4], [5, 6, -1, -1], [-1, -1, -1, -1]], dtype=np.int64)
    inputs = {"user_id": tf.constant(["a", "b", "c"]), "user_history": tf.constant(histories)}
    tower = _tower(shared, 2)
    out = tower(inputs, retrieval_query=True).numpy()
    identity = out[:, :4] * np.sqrt(2.0)
    table = shared.embedding_table("movie_id").numpy()
    rows = table[shared.lookup_in_table("movie_id", tf.constant(histories[0])).numpy()]
    np.testing.assert_allclose(identity[0], _reference(rows, 2), atol=1e-5)
    # Shorter histories keep the normalised mean of their rows (the empty one: zeros).
    mean = tower.encoder(inputs).numpy()[:, 4:8]
    norms = np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-6)
    np.testing.assert_allclose(identity[1:], mean[1:] / norms[1:], atol=1e-5)
    # The same rows ragged, and a batch without any long history, take the same paths.
    ragged = {**inputs, "user_history": tf.ragged.constant([[1, 2, 3, 4], [5, 6], []], tf.int64)}
    np.testing.assert_allclose(tower(ragged, retrieval_query=True).numpy(), out, atol=1e-6)
    short = {key: value[1:] for key, value in inputs.items()}
    np.testing.assert_allclose(tower(short, retrieval_query=True).numpy(), out[1:], atol=1e-6)
    # Training steps, and callers that do not ask (losses, the ranking stack): the plain mean.
    for plain in (tower(inputs, training=True, retrieval_query=True), tower(inputs)):
        np.testing.assert_allclose(plain.numpy()[:, :4] * np.sqrt(2.0), mean / norms, atol=1e-5)
    rebuilt = QueryTower.from_config(tower.get_config())
    assert (rebuilt.history_clusters, rebuilt.history_clusters_min_length) == (2, 3)


def test_clusters_need_a_multi_hot_identity_feature(shared: SharedEmbeddings) -> None:
    with pytest.raises(ValueError, match="needs a multi_hot identity_feature"):
        QueryTower(
            shared, output_dim=3, use_l2_norm=True, identity_feature="user_id", history_clusters=2
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"history_clusters": 0}, "history_clusters=0 must be >= 1"),
        ({"history_clusters": 2}, "needs an identity_feature"),
        (
            {"history_clusters": 3, "identity_feature": "h", "history_clusters_min_length": 2},
            "history_clusters_min_length=2 must be >= history_clusters=3",
        ),
    ],
)
def test_invalid_cluster_settings_name_the_field(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TowerConfig(use_l2_norm=True, **changes)


def _clustered_model() -> tuple[Any, dict[str, np.ndarray], Any]:
    """A MovieLens model whose histories of 5 or more movies are pooled by 2 clusters, its
    90 training rows (histories of 0 to 8 movies) and its config."""
    from tfrs_mtl import models

    rng = np.random.default_rng(0)
    num_rows = 90
    movies = rng.integers(1, 21, num_rows)
    histories = np.full((num_rows, 8), -1, np.int64)
    for row in range(num_rows):
        length = rng.integers(0, 9)
        histories[row, :length] = rng.choice(np.arange(1, 21), length, replace=False)
    arrays = {
        "user_id": rng.integers(1, 8, num_rows).astype(str).astype(object),
        "movie_id": movies.astype(str).astype(object),
        "movie_genres": np.stack([movies % 5, np.full(num_rows, -1)], axis=1).astype(np.int64),
        "user_rating": rng.integers(1, 6, num_rows).astype(np.float32),
        "user_history": histories,
    }
    config = models.movielens_config(
        embedding_dim=4,
        side_features=False,
        user_history=True,
        use_l2_norm=True,
        identity_embeddings=True,
        history_clusters=2,
    )
    config = config.replace(query_tower=config.query_tower.replace(history_clusters_min_length=5))
    tf.keras.utils.set_random_seed(0)
    model = models.MultiTaskModel.from_data(config, arrays)
    return model, arrays, config


def test_queries_encoded_in_batches_are_those_of_one_call() -> None:
    from tfrs_mtl.serving.catalogue_encoding import encode_in_batches

    model, arrays, _ = _clustered_model()
    names = model.query_feature_names
    users = {name: arrays[name] for name in names}
    whole = np.asarray(model.query_encoder(users, training=False))
    # Batches of 7 rows: some hold a long history (clustered), some none.
    np.testing.assert_allclose(
        encode_in_batches(model.query_encoder, users, names, 7), whole, atol=1e-6
    )
    empty = {name: values[:0] for name, values in users.items()}
    assert encode_in_batches(model.query_encoder, empty, names, 7).shape == (0, whole.shape[1])
    with pytest.raises(ValueError, match="batch_size=0 must be at least 1"):
        encode_in_batches(model.query_encoder, users, names, 0)


def test_an_exported_model_clusters_long_histories_as_in_process(tmp_path) -> None:
    from tfrs_mtl import models
    from tfrs_mtl.serving import IndexConfig, Recommender, load

    model, arrays, config = _clustered_model()
    _, first = np.unique(arrays["movie_id"], return_index=True)
    catalogue = {name: arrays[name][first] for name in model.candidate_feature_names}
    recommender = Recommender(model, catalogue, IndexConfig(kind="brute_force"), progress=False)
    queries = {
        "user_id": np.array(["1", "2", "3"], dtype=object),
        "user_history": np.array(
            [[1, 2, 3, 4, 5, 6, 7, 8], [9, 10, *[-1] * 6], [11, 3, 5, 7, 9, -1, -1, -1]]
        ),
    }
    clustered = recommender.encode_queries(queries)
    plain = Recommender(
        models.MultiTaskModel.from_data(
            config.replace(query_tower=config.query_tower.replace(history_clusters=1)), arrays
        ),
        catalogue,
        IndexConfig(kind="brute_force"),
        progress=False,
    )
    plain.model.set_weights(model.get_weights())
    unclustered = plain.encode_queries(queries)
    # Only the histories of 5 or more movies change, and only in their identity part.
    np.testing.assert_allclose(clustered[1], unclustered[1], atol=1e-6)
    assert not np.allclose(clustered[[0, 2], :4], unclustered[[0, 2], :4], atol=1e-3)
    np.testing.assert_allclose(clustered[:, 4:], unclustered[:, 4:], atol=1e-6)
    # Stage 1 scores the clustered queries, in process and after export.
    expected = recommender.retrieve(queries, k=5)
    top = np.sort(clustered @ recommender.candidate_embeddings.T, axis=1)[:, ::-1][:, :5]
    np.testing.assert_allclose(expected.retrieval_scores, top, rtol=1e-5, atol=1e-6)
    loaded = load(recommender.save(tmp_path / "export"))
    found = loaded.retrieve(queries, k=5)
    np.testing.assert_array_equal(found.item_ids, expected.item_ids)
    np.testing.assert_allclose(found.retrieval_scores, expected.retrieval_scores, rtol=1e-5)
    # Stage 2: the rating head reads the plain query, as in training and evaluation.
    ranked = recommender.recommend(queries, k=3, num_candidates=10)
    pairs = {name: np.repeat(values, 3, axis=0) for name, values in queries.items()}
    rows = [
        int(np.flatnonzero(catalogue["movie_id"] == item)[0]) for item in ranked.item_ids.ravel()
    ]
    pairs.update({name: values[rows] for name, values in catalogue.items()})
    outputs = model.task_outputs({name: tf.constant(value) for name, value in pairs.items()})
    np.testing.assert_allclose(
        ranked.scores["rating"].ravel(), outputs["rating"].numpy(), rtol=1e-5, atol=1e-6
    )
    served = loaded.recommend(queries, k=3, num_candidates=10)
    np.testing.assert_array_equal(served.item_ids, ranked.item_ids)
    np.testing.assert_allclose(served.scores["rating"], ranked.scores["rating"], rtol=1e-5)
