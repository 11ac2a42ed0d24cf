"""The training-speed rewrites compute what the straightforward code computes.

Two hot spots of the default MovieLens train step are written for speed: multi-hot pooling
(`FeatureEncoder`: a sparse count matrix times the distinct rows, instead of a ragged gather
+ `reduce_sum`) and the full-catalogue softmax
(`RetrievalTask.full_catalogue_loss`: `logsumexp - positive logit`, instead of
`CategoricalCrossentropy` on one-hot labels over the concatenated logits). Each test runs the
straightforward computation (the code as it was before the rewrite, kept here) beside the
optimised one on the same toy batch and compares values and gradients: pooling exactly, the
softmax and the whole model to float round-off (1e-6).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tensorflow as tf
from test_multitask_model import _tensors, movielens_arrays

from tfrs_mtl.features import feature_encoder as encoder_module
from tfrs_mtl.features.raw_values import padding_mask
from tfrs_mtl.models import MultiTaskModel, movielens_config
from tfrs_mtl.tasks import retrieval as retrieval_module
from tfrs_mtl.tasks.retrieval import MIN_FLOAT, RetrievalTask

RTOL = 1e-6


# ----- the straightforward computations -----------------------------------------------------


def _ragged(values: tf.Tensor | tf.RaggedTensor) -> tf.RaggedTensor:
    if isinstance(values, tf.RaggedTensor):
        return values
    if values.shape.rank == 1:
        values = values[:, tf.newaxis]
    return tf.ragged.boolean_mask(values, padding_mask(values))


def reference_pool(encoder: Any, feature: Any, ragged: tf.RaggedTensor) -> tf.Tensor:
    """`FeatureEncoder._pool` before the rewrite: a ragged gather, then `reduce_sum`."""
    table = feature.table_name
    distinct_keys, positions = tf.unique(ragged.flat_values)
    distinct_rows = encoder.shared_embeddings.lookup_in_table(table, distinct_keys)
    distinct_vectors = encoder.shared_embeddings.embed(table, distinct_rows)
    vectors = ragged.with_flat_values(tf.gather(distinct_vectors, positions))
    total = tf.reduce_sum(vectors, axis=1)
    if feature.combiner == "sum":
        return total
    counts = tf.cast(ragged.row_lengths(), total.dtype)[:, tf.newaxis]
    return tf.math.divide_no_nan(total, counts)


def reference_full_catalogue_loss(
    self: RetrievalTask,
    query_embeddings: tf.Tensor,
    positive_embeddings: tf.Tensor,
    positive_indices: tf.Tensor,
    catalogue_embeddings: tf.Tensor,
    sample_weight: tf.Tensor | None = None,
    fixed_columns: int = 0,
) -> tf.Tensor:
    """`RetrievalTask.full_catalogue_loss` before the rewrite (no item-item columns)."""
    assert fixed_columns == 0
    num_items = tf.shape(catalogue_embeddings)[0]
    positive_scores = tf.reduce_sum(query_embeddings * positive_embeddings, 1, keepdims=True)
    catalogue_scores = tf.matmul(query_embeddings, catalogue_embeddings, transpose_b=True)
    is_positive = tf.one_hot(tf.cast(positive_indices, tf.int32), num_items) > 0.5
    catalogue_scores = tf.where(is_positive, MIN_FLOAT, catalogue_scores)
    logits = tf.concat([positive_scores, catalogue_scores], axis=1) / self.temperature
    labels = tf.one_hot(tf.zeros_like(positive_scores[:, 0], tf.int32), num_items + 1)
    loss = tf.keras.losses.CategoricalCrossentropy(
        from_logits=True, reduction=tf.keras.losses.Reduction.SUM_OVER_BATCH_SIZE
    )
    return loss(labels, logits, sample_weight=sample_weight)


class ReferenceEncoding:
    """Within the block, `FeatureEncoder` pools and `RetrievalTask` scores the old way."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def __enter__(self) -> None:
        encode_feature = encoder_module.FeatureEncoder.encode_feature

        def encode(self: Any, feature: Any, inputs: Any) -> tf.Tensor:
            if feature.kind == "multi_hot":
                values = inputs[feature.name]
                if not isinstance(values, tf.RaggedTensor):
                    values = tf.convert_to_tensor(values)
                return reference_pool(self, feature, _ragged(values))
            return encode_feature(self, feature, inputs)

        self.monkeypatch.setattr(encoder_module.FeatureEncoder, "encode_feature", encode)
        self.monkeypatch.setattr(
            retrieval_module.RetrievalTask, "full_catalogue_loss", reference_full_catalogue_loss
        )

    def __exit__(self, *exc: Any) -> None:
        self.monkeypatch.undo()


# ----- multi-hot pooling ----------------------------------------------------------------------


def _history_encoder(combiner: str = "mean") -> tuple[Any, tf.Variable]:
    from tfrs_mtl.features import FeatureSpec, FeatureVocabularies, SharedEmbeddings
    from tfrs_mtl.features.feature_config import FeatureConfig

    spec = FeatureSpec(
        features=(
            FeatureConfig(name="movie_id", kind="id", side="candidate", embedding_dim=4),
            FeatureConfig(
                name="history",
                kind="multi_hot",
                side="query",
                table="movie_id",
                embedding_dim=4,
                combiner=combiner,
            ),
        )
    )
    arrays = {
        "movie_id": np.array([str(i) for i in range(9)], dtype=object),
        "history": np.full((9, 2), -1, np.int64),
    }
    tf.keras.utils.set_random_seed(3)
    shared = SharedEmbeddings(spec, FeatureVocabularies.fit(spec, arrays))
    encoder = encoder_module.FeatureEncoder(shared, feature_names=("history",))
    return encoder, shared.embedding_table("movie_id")


HISTORIES = {
    # -1 pads; an empty row; a repeated movie (counted twice); an unknown movie (OOV row).
    "dense int64": tf.constant(
        [[3, 1, -1, -1], [-1, -1, -1, -1], [2, 2, 7, -1], [42, 0, 8, 5]], tf.int64
    ),
    "dense string": tf.constant(
        [["3", "1", "", ""], ["", "", "", ""], ["2", "2", "7", ""], ["42", "0", "8", "5"]]
    ),
    "ragged": tf.ragged.constant([[3, 1], [], [2, 2, 7], [42, 0, 8, 5]], tf.int64),
    "single-valued": tf.constant([3, -1, 7, 42], tf.int64),
}


@pytest.mark.parametrize("combiner", ["mean", "sum"])
@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_pooling_equals_the_ragged_gather_and_sum_exactly(
    name: str, combiner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder, table = _history_encoder(combiner)
    inputs = {"history": HISTORIES[name]}
    upstream = tf.constant(np.random.default_rng(0).normal(size=(4, 4)), tf.float32)

    def value_and_gradient() -> tuple[np.ndarray, np.ndarray]:
        with tf.GradientTape() as tape:
            pooled = encoder(inputs)
            loss = tf.reduce_sum(pooled * upstream)
        return pooled.numpy(), tf.convert_to_tensor(tape.gradient(loss, table)).numpy()

    fast, fast_gradient = value_and_gradient()
    with ReferenceEncoding(monkeypatch):
        slow, slow_gradient = value_and_gradient()
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(fast_gradient, slow_gradient)
    assert np.all(fast[1] == 0.0)  # the empty row pools to zeros


def test_pooling_matches_numpy() -> None:
    encoder, table = _history_encoder("mean")
    rows = encoder.shared_embeddings.lookup_in_table("movie_id", tf.constant(["3", "1"]))
    expected = table.numpy()[rows.numpy()].mean(axis=0)
    pooled = encoder({"history": tf.constant([[3, 1, -1]], tf.int64)}).numpy()
    np.testing.assert_allclose(pooled[0], expected, rtol=1e-6)


# ----- full-catalogue softmax -------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [1.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_full_catalogue_loss_equals_the_one_hot_cross_entropy(
    temperature: float, weighted: bool
) -> None:
    rng = np.random.default_rng(1)
    batch, items, dim = 32, 50, 8
    catalogue = tf.Variable(rng.normal(size=(items, dim)).astype(np.float32))
    queries = tf.Variable(rng.normal(size=(batch, dim)).astype(np.float32))
    indices = rng.integers(-1, items, batch)  # -1: a positive outside the catalogue
    indices[:3] = [-1, 0, items - 1]
    positives = tf.Variable(
        np.where(
            indices[:, None] >= 0,
            catalogue.numpy()[np.maximum(indices, 0)],
            rng.normal(size=(batch, dim)),
        ).astype(np.float32)
    )
    weight = tf.constant(rng.random(batch).astype(np.float32)) if weighted else None
    task = RetrievalTask(temperature=temperature)
    variables = [queries, positives, catalogue]
    results = []
    for loss_fn in (RetrievalTask.full_catalogue_loss, reference_full_catalogue_loss):
        with tf.GradientTape() as tape:
            loss = loss_fn(task, queries, positives, tf.constant(indices), catalogue, weight)
        results.append((float(loss), tape.gradient(loss, variables)))
    (fast, fast_gradients), (slow, slow_gradients) = results
    np.testing.assert_allclose(fast, slow, rtol=RTOL)
    for fast_gradient, slow_gradient in zip(fast_gradients, slow_gradients, strict=True):
        scale = np.abs(slow_gradient.numpy()).max()
        np.testing.assert_allclose(
            fast_gradient.numpy() / scale, slow_gradient.numpy() / scale, atol=RTOL
        )


# ----- the default model's train step -------------------------------------------------------------


def _default_like_model() -> tuple[MultiTaskModel, dict[str, tf.Tensor]]:
    """The library default's structure (`ExperimentConfig().model_config()`: user history,
    full-catalogue softmax at temperature 0.2, L2-normalised linear towers, rating biases,
    genres) at toy size."""
    arrays = movielens_arrays(64)
    rng = np.random.default_rng(2)
    history = np.full((64, 6), -1, np.int64)
    for row in range(64):
        length = rng.integers(0, 7)
        history[row, :length] = rng.choice(np.arange(1, 13), length, replace=False)
    arrays["user_history"] = history
    config = movielens_config(
        embedding_dim=8,
        use_full_catalogue=True,
        temperature=0.2,
        tower_hidden_dims=(),
        use_l2_norm=True,
        user_history=True,
        side_features=False,
    )
    tf.keras.utils.set_random_seed(5)
    model = MultiTaskModel.from_data(config, arrays)
    return model, _tensors(arrays)


def test_default_model_losses_and_gradients_are_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, batch = _default_like_model()

    def losses_and_gradients() -> tuple[dict[str, float], list[np.ndarray]]:
        with tf.GradientTape() as tape:
            losses = model.task_losses(batch, training=True)
            total = tf.add_n(list(losses.values()))
        gradients = tape.gradient(total, model.trainable_variables)
        return (
            {name: float(loss) for name, loss in losses.items()},
            [tf.convert_to_tensor(gradient).numpy() for gradient in gradients],
        )

    fast_losses, fast_gradients = losses_and_gradients()
    with ReferenceEncoding(monkeypatch):
        slow_losses, slow_gradients = losses_and_gradients()
    assert set(fast_losses) == {"retrieval", "rating", "genres"}
    for name, loss in slow_losses.items():
        np.testing.assert_allclose(fast_losses[name], loss, rtol=RTOL, err_msg=name)
    for variable, fast, slow in zip(
        model.trainable_variables, fast_gradients, slow_gradients, strict=True
    ):
        scale = max(np.abs(slow).max(), 1e-12)
        np.testing.assert_allclose(fast / scale, slow / scale, atol=RTOL, err_msg=variable.name)


def test_default_model_trains_the_same_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three compiled Adam steps on the same batches: the same losses, the same weights."""

    def train() -> tuple[list[float], list[np.ndarray]]:
        model, batch = _default_like_model()
        model.compile(optimizer=tf.keras.optimizers.Adam(0.01))
        step = tf.function(model.train_step)
        losses = [float(step(batch)["loss"]) for _ in range(3)]
        return losses, [variable.numpy() for variable in model.trainable_variables]

    fast_losses, fast_weights = train()
    with ReferenceEncoding(monkeypatch):
        slow_losses, slow_weights = train()
    np.testing.assert_allclose(fast_losses, slow_losses, rtol=1e-5)
    for fast, slow in zip(fast_weights, slow_weights, strict=True):
        np.testing.assert_allclose(fast, slow, rtol=1e-4, atol=1e-5)
