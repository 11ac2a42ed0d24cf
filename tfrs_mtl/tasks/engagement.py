"""`EngagementTask`: did the user interact with the item, against sampled negatives.

Each row's (query, item) pair is a positive; its negatives are items the row's user did not
interact with, scored through the same ranking stack: some drawn from what the model's own
stage 1 retrieves for the query (hard negatives, the candidates the ranker must order at
serving time, as Covington et al., RecSys 2016, train their ranker on what was shown), some
uniformly from the catalogue. The loss is the binary cross-entropy of every pair, so the
head's sigmoid is `p(engage)`, the probability the blend reads as a log-probability. The
metric is `<name>/auc`, positives against their negatives.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class EngagementTask(tf.keras.layers.Layer):
    """Binary cross-entropy of each row's positive and negatives, with AUC.

    Example:
        >>> task = EngagementTask(name="engagement")
        >>> loss = task(logits, weights)  # [batch_size, 1 + num_negatives] each -> scalar
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.auc = tf.keras.metrics.AUC(name=f"{self.name}/auc")

    def call(
        self, logits: tf.Tensor, weights: tf.Tensor, compute_metrics: bool = True
    ) -> tf.Tensor:
        """The weighted mean loss.

        Args:
            logits: `[batch_size, 1 + num_negatives]`, column 0 the row's own item.
            weights: `[batch_size, 1 + num_negatives]` float32, 0 for pairs that do not count
                (a negative that is a positive of the row, a row that is no positive).
            compute_metrics: update the AUC.

        Returns:
            Scalar: `sum(weights * cross_entropy) / sum(weights)` (0 when nothing counts).
        """
        logits = tf.cast(logits, tf.float32)
        weights = tf.cast(weights, tf.float32)
        labels = tf.concat([tf.ones_like(logits[:, :1]), tf.zeros_like(logits[:, 1:])], axis=1)
        losses = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        loss = tf.math.divide_no_nan(tf.reduce_sum(losses * weights), tf.reduce_sum(weights))
        if compute_metrics:
            self.auc.update_state(
                tf.reshape(labels, [-1]),
                tf.reshape(tf.sigmoid(logits), [-1]),
                sample_weight=tf.reshape(weights, [-1]),
            )
        return loss
