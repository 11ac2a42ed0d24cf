"""`BinaryTask`: a behaviour (click, cart, favourite, purchase) as binary cross-entropy.

Predictions are probabilities: a plain head's sigmoid, or in an ESMM cascade (Ma et al.,
SIGIR 2018, "Entire Space Multi-Task Model") `p_ctcvr = p_ctr * p_cvr` for the conditioned
task, whose loss is then taken over all impressions (the entire space), not only clicked ones.
The metric is `<name>/auc`.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_recommenders as tfrs


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class BinaryTask(tf.keras.layers.Layer):
    """Binary cross-entropy on probabilities, with AUC.

    Example:
        >>> task = BinaryTask(name="click")
        >>> loss = task(labels, probabilities)  # [batch_size] each -> scalar mean loss
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._task = tfrs.tasks.Ranking(
            loss=tf.keras.losses.BinaryCrossentropy(),
            metrics=[tf.keras.metrics.AUC(name=f"{self.name}/auc")],
        )

    def call(
        self,
        labels: tf.Tensor,
        probabilities: tf.Tensor,
        sample_weight: tf.Tensor | None = None,
        compute_metrics: bool = True,
    ) -> tf.Tensor:
        """Scalar mean loss; labels are 0/1 (any numeric or bool dtype) `[batch_size]`."""
        return self._task(
            labels=tf.reshape(tf.cast(labels, tf.float32), [-1, 1]),
            predictions=tf.reshape(tf.cast(probabilities, tf.float32), [-1, 1]),
            sample_weight=sample_weight,
            compute_metrics=compute_metrics,
        )
