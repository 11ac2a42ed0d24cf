"""`RetrievalTask`: two-tower softmax retrieval around `tfrs.tasks.Retrieval`.

Two modes:

* in-batch negatives (`call`): each query's positive is the candidate on the same row; the
  other rows' candidates are its negatives. Optional logQ correction subtracts
  `log p(candidate)` from the logits (Yi et al., RecSys 2019, "Sampling-Bias-Corrected Neural
  Modeling for Large Corpus Item Recommendations"), with p the candidate's frequency in the
  training data; optional accidental-hit removal and hard-negative mining as in TFRS.
* full-catalogue softmax (`full_catalogue_loss`): every catalogue item is a negative at every
  step; exact for small catalogues (MovieLens: 1,682 movies). The logits are computed directly
  as `[positive score, scores of every other catalogue item]` (`[batch, num_items + 1]`): TFRS's
  `Retrieval` puts each positive on the diagonal, which would need `[batch, batch + items]`
  scores, quadratic in the batch size. `multi_positive_loss` is its version with several
  positives per row (a user's items: Mult-DAE's multinomial likelihood).

The loss is averaged over the batch (TFRS sums it by default), so that its scale does not grow
with the batch size and is comparable with the other tasks' mean losses. No top-k metrics run
inside training steps (`metrics=None`); full-catalogue metrics are computed at evaluation.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

# What TFRS adds to masked logits (tensorflow_recommenders.layers.loss.MIN_FLOAT).
MIN_FLOAT = float(np.finfo(np.float32).min / 100.0)


@functools.cache
def _retrieval_call() -> Any:
    """`tfrs.tasks.Retrieval.call`, converted by AutoGraph once.

    It takes `len()` of a shape tensor, which only AutoGraph makes graph-safe; converting this
    one function lets the model's train steps skip AutoGraph (and its slow tracing) elsewhere.
    """
    return tf.autograph.to_graph(tfrs.tasks.Retrieval.call)


def _weighted_mean(losses: tf.Tensor, sample_weight: tf.Tensor | None) -> tf.Tensor:
    """Keras' SUM_OVER_BATCH_SIZE reduction of per-row `losses` `[batch_size]`: the weighted
    sum over the number of rows (0 for an empty batch)."""
    if sample_weight is not None:
        losses *= tf.reshape(tf.cast(sample_weight, losses.dtype), [-1])
    return tf.math.divide_no_nan(tf.reduce_sum(losses), tf.cast(tf.size(losses), losses.dtype))


@tf.custom_gradient
def _catalogue_softmax_losses(
    scaled_queries: tf.Tensor,
    positive_logits: tf.Tensor,
    catalogue_embeddings: tf.Tensor,
    positive_indices: tf.Tensor,
    logit_offsets: tf.Tensor,
) -> tuple[tf.Tensor, Any]:
    """Per-example softmax cross-entropy of `[positive logit, catalogue logits]`, label 0.

    The catalogue logits are `scaled_queries @ catalogue_embeddings.T`, with each row's
    positive column (`positive_indices`, -1: none) masked out. The loss is
    `logsumexp(logits) - positive logit`, shifted by the row maximum. Written out, with its
    gradient (`softmax - one_hot(0)`) from the forward pass's exponentials, it makes ~3x
    fewer passes over `[batch, num_items]` than `CategoricalCrossentropy` on one-hot labels
    over the concatenated logits with automatic differentiation (no one-hot labels, no
    concatenation, no log-softmax matrix, no mask in the backward pass: a masked column's
    exponential is exactly 0); the same loss and gradients to float round-off
    (tests/test_training_speed.py compares the two). `logit_offsets` (`[batch, num_items]`
    or a scalar 0) are added to the catalogue logits and get no gradient.
    """
    logits = tf.matmul(scaled_queries, catalogue_embeddings, transpose_b=True) + logit_offsets
    rows = tf.where(positive_indices >= 0)[:, 0]
    positives = tf.stack([rows, tf.gather(tf.cast(positive_indices, tf.int64), rows)], axis=1)
    logits = tf.tensor_scatter_nd_update(
        logits, positives, tf.fill(tf.shape(rows), tf.constant(MIN_FLOAT, logits.dtype))
    )
    top = tf.maximum(tf.reduce_max(logits, axis=1), positive_logits)
    exponentials = tf.exp(logits - top[:, tf.newaxis])
    positive_exponentials = tf.exp(positive_logits - top)
    partition = positive_exponentials + tf.reduce_sum(exponentials, axis=1)
    losses = tf.math.log(partition) + top - positive_logits

    def gradient(upstream: tf.Tensor) -> tuple[Any, ...]:
        scale = upstream / partition
        logit_gradients = exponentials * scale[:, tf.newaxis]
        return (
            tf.matmul(logit_gradients, catalogue_embeddings),
            positive_exponentials * scale - upstream,
            tf.matmul(logit_gradients, scaled_queries, transpose_a=True),
            None,
            None,
        )

    return losses, gradient


@tf.custom_gradient
def _multi_positive_losses(
    scaled_queries: tf.Tensor,
    catalogue_embeddings: tf.Tensor,
    targets: tf.Tensor,
    logit_offsets: tf.Tensor,
) -> tuple[tf.Tensor, Any]:
    """Per-row `-sum_j targets[j] * log_softmax(logits)[j]`, logits `scaled_queries @ C.T`.

    `targets` `[batch, num_items]` sum to 1 on each row with a positive, 0 on a row without
    (whose loss is then 0). As `_catalogue_softmax_losses`: `logsumexp - targets . logits`,
    with the gradient `softmax * sum(targets) - targets` from the forward pass's exponentials
    instead of automatic differentiation through a log-softmax matrix. `logit_offsets`
    (`[batch, num_items]` or a scalar 0) are added to the logits and get no gradient.
    """
    logits = tf.matmul(scaled_queries, catalogue_embeddings, transpose_b=True) + logit_offsets
    top = tf.reduce_max(logits, axis=1)
    exponentials = tf.exp(logits - top[:, tf.newaxis])
    partition = tf.reduce_sum(exponentials, axis=1)
    mass = tf.reduce_sum(targets, axis=1)
    losses = (tf.math.log(partition) + top) * mass - tf.reduce_sum(targets * logits, axis=1)

    def gradient(upstream: tf.Tensor) -> tuple[Any, ...]:
        logit_gradients = (
            exponentials * (upstream * mass / partition)[:, tf.newaxis]
            - targets * upstream[:, tf.newaxis]
        )
        return (
            tf.matmul(logit_gradients, catalogue_embeddings),
            tf.matmul(logit_gradients, scaled_queries, transpose_a=True),
            None,
            None,
        )

    return losses, gradient


def _split_fixed_columns(
    queries: tf.Tensor, catalogue: tf.Tensor, fixed_columns: int
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """`(queries, catalogue, offsets)`: the last `fixed_columns` columns of both sides (ones
    no gradient reaches, e.g. the model's item-item part) as the constant logits
    `offsets = q_fixed @ c_fixed.T`, and the rest; the softmax's gradient matmuls then skip
    them. `offsets` is a scalar 0 without fixed columns."""
    if not fixed_columns:
        return queries, catalogue, tf.zeros([], queries.dtype)
    offsets = tf.matmul(
        tf.stop_gradient(queries[:, -fixed_columns:]),
        tf.stop_gradient(catalogue[:, -fixed_columns:]),
        transpose_b=True,
    )
    return queries[:, :-fixed_columns], catalogue[:, :-fixed_columns], offsets


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class RetrievalTask(tf.keras.layers.Layer):
    """Softmax retrieval loss over in-batch or full-catalogue negatives.

    Args:
        temperature: Logits are divided by it.
        remove_accidental_hits: Mask in-batch negatives with the positive's id (needs
            `candidate_ids`).
        num_hard_negatives: Keep the hardest negatives only (0 keeps all).

    Example:
        >>> task = RetrievalTask(name="retrieval")
        >>> loss = task(query_embeddings, candidate_embeddings)  # [batch, dim] each
    """

    def __init__(
        self,
        temperature: float = 1.0,
        remove_accidental_hits: bool = False,
        num_hard_negatives: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.temperature = float(temperature)
        self.remove_accidental_hits = bool(remove_accidental_hits)
        self.num_hard_negatives = int(num_hard_negatives)
        self._in_batch = self._make_task(self.remove_accidental_hits, self.num_hard_negatives)

    def _make_task(self, remove_accidental_hits: bool, num_hard_negatives: int) -> Any:
        loss = tf.keras.losses.CategoricalCrossentropy(
            from_logits=True, reduction=tf.keras.losses.Reduction.SUM_OVER_BATCH_SIZE
        )
        return tfrs.tasks.Retrieval(
            loss=loss,
            metrics=None,
            temperature=self.temperature if self.temperature != 1.0 else None,
            num_hard_negatives=num_hard_negatives or None,
            remove_accidental_hits=remove_accidental_hits,
        )

    def call(
        self,
        query_embeddings: tf.Tensor,
        candidate_embeddings: tf.Tensor,
        candidate_ids: tf.Tensor | None = None,
        candidate_sampling_probability: tf.Tensor | None = None,
        sample_weight: tf.Tensor | None = None,
    ) -> tf.Tensor:
        """In-batch softmax loss.

        Args:
            query_embeddings: `[batch_size, dim]`.
            candidate_embeddings: `[batch_size, dim]`, row i the positive of query i.
            candidate_ids: `[batch_size]` ids, for accidental-hit removal.
            candidate_sampling_probability: `[batch_size]` p(candidate), for logQ correction.
            sample_weight: `[batch_size]`.

        Returns:
            The scalar mean loss.
        """
        return _retrieval_call()(
            self._in_batch,
            query_embeddings,
            candidate_embeddings,
            sample_weight=sample_weight,
            candidate_sampling_probability=candidate_sampling_probability,
            candidate_ids=candidate_ids if self.remove_accidental_hits else None,
            compute_metrics=False,
            compute_batch_metrics=False,
        )

    def full_catalogue_loss(
        self,
        query_embeddings: tf.Tensor,
        positive_embeddings: tf.Tensor,
        positive_indices: tf.Tensor,
        catalogue_embeddings: tf.Tensor,
        sample_weight: tf.Tensor | None = None,
        fixed_columns: int = 0,
    ) -> tf.Tensor:
        """Softmax over the whole catalogue.

        Args:
            query_embeddings: `[batch_size, dim]`.
            positive_embeddings: `[batch_size, dim]`, the positives' candidate embeddings.
            positive_indices: `[batch_size]` int, each positive's row in the catalogue (-1 if
                it is not in the catalogue: then every catalogue item is a negative).
            catalogue_embeddings: `[num_items, dim]`.
            sample_weight: `[batch_size]`.
            fixed_columns: the embeddings' last columns that no gradient reaches (the towers'
                item-item part): computed once as constant logits.

        Returns:
            The scalar mean loss.
        """
        scaled_queries = query_embeddings * (1.0 / self.temperature)
        positive_logits = tf.reduce_sum(scaled_queries * positive_embeddings, axis=1)
        scaled_queries, catalogue_embeddings, offsets = _split_fixed_columns(
            scaled_queries, catalogue_embeddings, fixed_columns
        )
        losses = _catalogue_softmax_losses(
            scaled_queries, positive_logits, catalogue_embeddings, positive_indices, offsets
        )
        return _weighted_mean(losses, sample_weight)

    def multi_positive_loss(
        self,
        query_embeddings: tf.Tensor,
        positive_rows: tf.RaggedTensor,
        catalogue_embeddings: tf.Tensor,
        sample_weight: tf.Tensor | None = None,
        fixed_columns: int = 0,
    ) -> tf.Tensor:
        """Softmax over the whole catalogue with several positives per row.

        Each row's loss is the mean negative log-softmax of its positives: the multinomial
        likelihood of Mult-DAE / Mult-VAE (Liang et al., "Variational Autoencoders for
        Collaborative Filtering", WWW 2018), taken here per row, so that summed over a
        user's rows it weighs each of the user's items once per row.

        Args:
            query_embeddings: `[batch_size, dim]`.
            positive_rows: int `[batch_size, None]` catalogue rows of each row's positives;
                rows outside the catalogue (-1) are ignored, a repeated row counts once.
            catalogue_embeddings: `[num_items, dim]`.
            sample_weight: `[batch_size]`.
            fixed_columns: as in `full_catalogue_loss`.

        Returns:
            The scalar mean loss (a row without any catalogue positive adds 0).
        """
        num_items = tf.shape(catalogue_embeddings, out_type=tf.int64)[0]
        rows = tf.cast(positive_rows.flat_values, tf.int64)
        batch_rows = tf.cast(positive_rows.value_rowids(), tf.int64)
        known = rows >= 0
        indices = tf.stack([tf.boolean_mask(batch_rows, known), tf.boolean_mask(rows, known)], 1)
        batch_size = tf.shape(query_embeddings, out_type=tf.int64)[0]
        counts = tf.scatter_nd(
            indices, tf.ones_like(indices[:, 0], tf.float32), tf.stack([batch_size, num_items])
        )
        targets = tf.minimum(counts, 1.0)
        targets = tf.math.divide_no_nan(targets, tf.reduce_sum(targets, 1, keepdims=True))
        scaled_queries, catalogue_embeddings, offsets = _split_fixed_columns(
            query_embeddings * (1.0 / self.temperature), catalogue_embeddings, fixed_columns
        )
        losses = _multi_positive_losses(scaled_queries, catalogue_embeddings, targets, offsets)
        return _weighted_mean(losses, sample_weight)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "temperature": self.temperature,
                "remove_accidental_hits": self.remove_accidental_hits,
                "num_hard_negatives": self.num_hard_negatives,
            }
        )
        return config
