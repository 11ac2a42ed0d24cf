"""`AttributeTask`: predict an attribute of the query or the candidate from its own tower.

Auxiliary tasks that make the tower's representation carry the attribute: multi-label
(a movie's genres), multi-class (category, brand, occupation) or regression (price, age). The
attribute must then not be an input of that tower, or the task would learn to copy its input:
`check_attribute_leakage` refuses such a configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf
import tensorflow_recommenders as tfrs

from tfrs_mtl.config import ConfigError
from tfrs_mtl.tasks.task_config import TaskConfig


def check_attribute_leakage(task: TaskConfig, tower_feature_names: Sequence[str]) -> None:
    """Raises `ConfigError` when `task` predicts a feature its source tower takes as input.

    Args:
        task: An `attribute` or `interest` task.
        tower_feature_names: Input features of the tower the task predicts from
            (`task.source_side`).
    """
    if task.kind not in ("attribute", "interest") or task.label_key not in tower_feature_names:
        return
    side = task.source_side
    raise ConfigError(
        f"task {task.name!r} predicts {task.label_key!r} from the {side} tower, which also "
        f"takes {task.label_key!r} as an input; remove it from the {side} features "
        f"(movielens_feature_spec(exclude=({task.label_key!r},)), or FeatureSpec.without)"
    )


def multi_hot(labels: tf.Tensor | tf.RaggedTensor, num_classes: int) -> tf.Tensor:
    """Class indices padded with -1 `[batch_size, max_len]` (or ragged) -> `[batch, classes]`.

    Float labels of width `num_classes` are taken as already multi-hot.
    """
    if isinstance(labels, tf.RaggedTensor):
        labels = labels.to_tensor(default_value=-1)
    labels = tf.convert_to_tensor(labels)
    if labels.dtype.is_floating and labels.shape[-1] == num_classes:
        return tf.cast(labels, tf.float32)
    if labels.shape.rank == 1:
        labels = labels[:, tf.newaxis]
    # one_hot of -1 is all zeros, so padding contributes nothing; clip repeats to 1.
    encoded = tf.reduce_sum(tf.one_hot(tf.cast(labels, tf.int32), num_classes), axis=1)
    return tf.minimum(encoded, 1.0)


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class AttributeTask(tf.keras.layers.Layer):
    """Loss and metric of an attribute prediction.

    Args:
        target: `multi_label` (sigmoid cross-entropy per class, metric `<name>/auc`),
            `multi_class` (softmax cross-entropy, `<name>/accuracy`) or `regression`
            (`<name>/rmse` on the standardized label).
        num_classes: Classes of `multi_label` / `multi_class` targets.
        regression_loss: `mse` or `huber` for `regression`.
        label_mean: Regression labels are standardized with the training mean...
        label_std: ...and standard deviation, so that prices and ages have unit scale.

    Call with `labels` (class indices `[batch_size, max_len]` padded with -1, class index
    `[batch_size]`, or number `[batch_size]`) and `logits` (`[batch_size, num_classes]`, or
    `[batch_size]` for regression).
    """

    def __init__(
        self,
        target: str = "multi_label",
        num_classes: int = 0,
        regression_loss: str = "mse",
        label_mean: float = 0.0,
        label_std: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.target = target
        self.num_classes = int(num_classes)
        self.regression_loss = regression_loss
        self.label_mean = float(label_mean)
        self.label_std = float(label_std)
        loss: tf.keras.losses.Loss
        metric: tf.keras.metrics.Metric
        if target == "multi_label":
            loss = tf.keras.losses.BinaryCrossentropy(from_logits=True)
            metric = tf.keras.metrics.AUC(name=f"{self.name}/auc", from_logits=True)
        elif target == "multi_class":
            loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            metric = tf.keras.metrics.SparseCategoricalAccuracy(name=f"{self.name}/accuracy")
        elif target == "regression":
            loss = (
                tf.keras.losses.Huber()
                if regression_loss == "huber"
                else tf.keras.losses.MeanSquaredError()
            )
            metric = tf.keras.metrics.RootMeanSquaredError(name=f"{self.name}/rmse")
        else:
            raise ValueError(f"target={target!r}: expected multi_label, multi_class or regression")
        self._task = tfrs.tasks.Ranking(loss=loss, metrics=[metric])

    def encode_labels(self, labels: tf.Tensor | tf.RaggedTensor) -> tf.Tensor:
        """Raw labels -> what the loss compares the logits with."""
        if self.target == "multi_label":
            return multi_hot(labels, self.num_classes)
        if self.target == "multi_class":
            return tf.reshape(tf.cast(labels, tf.int64), [-1, 1])
        values = tf.reshape(tf.cast(labels, tf.float32), [-1, 1])
        return (values - self.label_mean) / self.label_std

    def call(
        self,
        labels: tf.Tensor | tf.RaggedTensor,
        logits: tf.Tensor,
        sample_weight: tf.Tensor | None = None,
        compute_metrics: bool = True,
    ) -> tf.Tensor:
        """Scalar mean loss."""
        if self.target == "regression":
            logits = tf.reshape(logits, [-1, 1])
        return self._task(
            labels=self.encode_labels(labels),
            predictions=logits,
            sample_weight=sample_weight,
            compute_metrics=compute_metrics,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "target": self.target,
                "num_classes": self.num_classes,
                "regression_loss": self.regression_loss,
                "label_mean": self.label_mean,
                "label_std": self.label_std,
            }
        )
        return config
