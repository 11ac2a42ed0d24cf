"""Tower input dropout (`FeatureConfig.dropout`, `tfrs_mtl.models.feature_dropout`)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.config import ConfigError
from tfrs_mtl.features import FeatureConfig, FeatureSpec
from tfrs_mtl.models import MultiTaskModel, movielens_config
from tfrs_mtl.models.feature_dropout import TowerInputDropout, drop_values, dropout_features

HISTORY = np.array([[3, 5, 7, -1], [2, -1, -1, -1], [4, 6, 8, 9]], np.int64)


def test_dense_values_become_padding_and_padding_stays() -> None:
    features = {"user_history": tf.constant(HISTORY), "user_rating": tf.constant([1.0, 2, 3])}
    dropped = drop_values(features, {"user_history": 0.5}, seed=1, step=tf.constant(0))
    values = dropped["user_history"].numpy()
    assert values.shape == HISTORY.shape
    kept = values != -1
    np.testing.assert_array_equal(values[kept], HISTORY[kept])
    assert np.all(values[HISTORY == -1] == -1)
    assert dropped["user_rating"] is features["user_rating"]
    assert features["user_history"].numpy().tolist() == HISTORY.tolist()  # not mutated


def test_masks_are_fresh_each_step_and_reproducible() -> None:
    values = tf.constant(np.arange(10_000, dtype=np.int64).reshape(100, 100))
    rates = {"user_history": 0.3}

    def kept(step: int) -> np.ndarray:
        out = drop_values({"user_history": values}, rates, seed=7, step=tf.constant(step))
        return out["user_history"].numpy() != -1

    assert 0.67 < kept(0).mean() < 0.73
    np.testing.assert_array_equal(kept(0), kept(0))
    assert (kept(0) != kept(1)).any()


def test_ragged_values_are_removed_and_ids_become_unknown() -> None:
    ragged = tf.ragged.constant([[1, 2, 3, 4, 5, 6, 7, 8], [9]], dtype=tf.int64)
    ids = tf.constant(["u1", "u2", "u3", "u4"] * 50)
    dropped = drop_values(
        {"history": ragged, "user_id": ids},
        {"history": 0.5, "user_id": 0.5},
        seed=0,
        step=tf.constant(3),
    )
    rows = dropped["history"].to_list()
    assert all(
        set(row) <= set(original) for row, original in zip(rows, ragged.to_list(), strict=True)
    )
    assert sum(len(row) for row in rows) < 9
    names = dropped["user_id"].numpy()
    assert set(names) <= {b"", b"u1", b"u2", b"u3", b"u4"}
    assert 0.3 < np.mean(names == b"") < 0.7


def test_config_accepts_dropout_on_multi_hot_and_ids_only() -> None:
    assert FeatureConfig(name="h", kind="multi_hot", side="query", dropout=0.5).dropout == 0.5
    with pytest.raises(ConfigError, match=r"feature 'h': dropout=1.0 is not in \[0, 1\)"):
        FeatureConfig(name="h", kind="multi_hot", side="query", dropout=1.0)
    with pytest.raises(ConfigError, match=r"dropout=0\.2 only applies to multi_hot, id"):
        FeatureConfig(name="price", kind="numeric", side="candidate", dropout=0.2)
    spec = FeatureSpec(
        features=(
            FeatureConfig(name="user_id", kind="id", side="query", dropout=0.25),
            FeatureConfig(name="movie_id", kind="id", side="candidate"),
        )
    )
    assert dropout_features(spec) == {"user_id": 0.25}


def _history_arrays(num_rows: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    movies = rng.integers(1, 13, size=num_rows)
    history = rng.integers(1, 13, size=(num_rows, 5)).astype(np.int64)
    history[rng.random(history.shape) < 0.3] = -1
    return {
        "user_id": np.array([str(u) for u in rng.integers(1, 9, size=num_rows)]),
        "movie_id": np.array([str(m) for m in movies]),
        "user_history": history,
        "user_rating": rng.integers(1, 6, size=num_rows).astype(np.float32),
        "movie_genres": np.array([[int(m) % 21, -1] for m in movies], np.int64),
    }


def _model_and_batches(
    ranking_reads_dropout: bool,
) -> tuple[MultiTaskModel, dict[str, tf.Tensor], dict[str, tf.Tensor]]:
    """`(model, batch, batch after step 0's history dropout)` on `_history_arrays`."""
    arrays = _history_arrays()
    config = movielens_config(
        embedding_dim=8, side_features=False, user_history=True, history_dropout=0.5
    ).replace(eval_top_k=(), ranking_reads_dropout=ranking_reads_dropout)
    # The genre loss over the batch rows only: the catalogue term of the preset's default
    # (`loss_over="batch_and_catalogue"`) is a training-only addition these tests do not probe.
    config = config.replace(
        tasks=tuple(
            task.replace(loss_over="batch") if task.name == "genres" else task
            for task in config.tasks
        )
    )
    tf.keras.utils.set_random_seed(0)
    model = MultiTaskModel.from_data(config, arrays)
    batch = {name: tf.constant(value) for name, value in arrays.items()}
    dropped = drop_values(batch, {"user_history": 0.5}, config.seed, tf.constant(0, tf.int64))
    return model, batch, dropped


def test_training_losses_read_the_dropped_history_and_evaluation_reads_all() -> None:
    model, batch, dropped = _model_and_batches(ranking_reads_dropout=True)
    # No optimizer: the step is 0. Nothing else in this config depends on `training`.
    training = model.compute_loss(batch, training=True)
    on_dropped = model.compute_loss(dropped, training=False)
    np.testing.assert_allclose(float(training), float(on_dropped), rtol=1e-6)
    assert float(model.compute_loss(batch, training=False)) != pytest.approx(float(training))


@pytest.mark.parametrize("ranking_reads_dropout", [False, True])
def test_the_ranking_stack_reads_the_full_features_unless_asked(
    ranking_reads_dropout: bool,
) -> None:
    # Dropout regularises retrieval; by default the rating head scores towers run on the full
    # features in training steps too.
    model, batch, dropped = _model_and_batches(ranking_reads_dropout)
    training = model.task_losses(batch, training=True)
    on_dropped = model.task_losses(dropped, training=False)
    on_full = model.task_losses(batch, training=False)
    for task in ("retrieval", "genres"):
        np.testing.assert_allclose(float(training[task]), float(on_dropped[task]), rtol=1e-6)
    rating = on_dropped if ranking_reads_dropout else on_full
    other = on_full if ranking_reads_dropout else on_dropped
    np.testing.assert_allclose(float(training["rating"]), float(rating["rating"]), rtol=1e-6)
    assert float(training["rating"]) != pytest.approx(float(other["rating"]))


def test_tower_inputs_are_the_batch_itself_unless_a_training_step_drops_values() -> None:
    spec = FeatureSpec(
        features=(
            FeatureConfig(name="user_history", kind="multi_hot", side="query", dropout=0.5),
            FeatureConfig(name="movie_id", kind="id", side="candidate"),
        )
    )
    dropout = TowerInputDropout(spec, seed=1)
    assert dropout.drops_side == {"query": True, "candidate": False}
    batch = {"user_history": tf.constant(HISTORY)}
    assert dropout(batch, training=False, optimizer=None) is batch
    assert TowerInputDropout(spec.without(("user_history",)), 1)(batch, True, None) is batch
    # Without an optimizer a training step draws step 0's masks.
    expected = drop_values(batch, {"user_history": 0.5}, seed=1, step=tf.constant(0))
    dropped = dropout(batch, training=True, optimizer=None)
    np.testing.assert_array_equal(dropped["user_history"], expected["user_history"])
