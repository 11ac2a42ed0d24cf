"""`RatingTask` (regression on a (query, candidate) pair) and `RatingBias` (its bias terms).

The loss is MSE or Huber through `tfrs.tasks.Ranking`; the metric is `<name>/rmse`. The
prediction may add learned biases, as in classic matrix factorization (Koren, Bell and Volinsky,
IEEE Computer 2009): `r_hat = f(q, c) + b + b_user + b_item`.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_recommenders as tfrs


def _column(values: tf.Tensor) -> tf.Tensor:
    """`[batch_size]` or `[batch_size, 1]` -> float32 `[batch_size, 1]`."""
    return tf.reshape(tf.cast(values, tf.float32), [-1, 1])


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class RatingTask(tf.keras.layers.Layer):
    """Regression loss and RMSE for a rating-like label.

    Args:
        regression_loss: `mse` or `huber`.
        huber_delta: Huber threshold.

    Example:
        >>> task = RatingTask(name="rating")
        >>> loss = task(labels, predictions)  # [batch_size] each -> scalar mean loss
    """

    def __init__(self, regression_loss: str = "mse", huber_delta: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.regression_loss = regression_loss
        self.huber_delta = float(huber_delta)
        if regression_loss == "huber":
            loss: tf.keras.losses.Loss = tf.keras.losses.Huber(delta=self.huber_delta)
        elif regression_loss == "mse":
            loss = tf.keras.losses.MeanSquaredError()
        else:
            raise ValueError(f"regression_loss={regression_loss!r}: expected 'mse' or 'huber'")
        self._task = tfrs.tasks.Ranking(
            loss=loss, metrics=[tf.keras.metrics.RootMeanSquaredError(name=f"{self.name}/rmse")]
        )

    def call(
        self,
        labels: tf.Tensor,
        predictions: tf.Tensor,
        sample_weight: tf.Tensor | None = None,
        compute_metrics: bool = True,
    ) -> tf.Tensor:
        """Scalar mean loss of `predictions` `[batch_size]` against `labels` `[batch_size]`."""
        return self._task(
            labels=_column(labels),
            predictions=_column(predictions),
            sample_weight=sample_weight,
            compute_metrics=compute_metrics,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"regression_loss": self.regression_loss, "huber_delta": self.huber_delta})
        return config


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class RatingBias(tf.keras.layers.Layer):
    """Global, per-user and per-item bias terms of a rating prediction.

    Args:
        num_users: Rows of the user bias table (0 disables the user bias).
        num_items: Rows of the item bias table (0 disables the item bias).
        use_global_bias: Add one learned scalar.
        initial_global_bias: Its initial value (e.g. the training mean rating).

    Call with int64 rows `user_rows`, `item_rows` `[batch_size]` (from the shared
    vocabularies' lookup); returns `[batch_size]`.
    """

    def __init__(
        self,
        num_users: int = 0,
        num_items: int = 0,
        use_global_bias: bool = True,
        initial_global_bias: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_users = int(num_users)
        self.num_items = int(num_items)
        self.use_global_bias = bool(use_global_bias)
        self.initial_global_bias = float(initial_global_bias)
        zeros = tf.keras.initializers.Zeros()
        self.global_bias = (
            self.add_weight(
                name="global_bias",
                shape=(),
                initializer=tf.keras.initializers.Constant(self.initial_global_bias),
            )
            if self.use_global_bias
            else None
        )
        self.user_bias = (
            self.add_weight(name="user_bias", shape=(self.num_users,), initializer=zeros)
            if self.num_users
            else None
        )
        self.item_bias = (
            self.add_weight(name="item_bias", shape=(self.num_items,), initializer=zeros)
            if self.num_items
            else None
        )

    def call(self, user_rows: tf.Tensor, item_rows: tf.Tensor) -> tf.Tensor:
        bias = tf.zeros(tf.shape(user_rows)[:1], tf.float32)
        if self.global_bias is not None:
            bias += self.global_bias
        if self.user_bias is not None:
            bias += tf.gather(self.user_bias, tf.reshape(user_rows, [-1]))
        if self.item_bias is not None:
            bias += tf.gather(self.item_bias, tf.reshape(item_rows, [-1]))
        return bias

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_users": self.num_users,
                "num_items": self.num_items,
                "use_global_bias": self.use_global_bias,
                "initial_global_bias": self.initial_global_bias,
            }
        )
        return config
