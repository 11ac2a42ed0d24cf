"""`LossWeighting`: turns a dict of per-task losses into weighted terms whose sum is the loss.

Every strategy is a Keras layer holding its state as variables, so that it lives inside the
model, is saved with its weights, and runs inside `tf.function`-compiled steps. `call` returns
one weighted term per task (`dict[task_name, scalar]`); the training loss is their sum. Keeping
the terms separate lets PCGrad take per-task gradients of exactly what is summed.

Example:
    >>> weighting = FixedWeighting(task_names=("rating", "retrieval"), base_weights=(1.0, 0.5))
    >>> terms = weighting({"rating": tf.constant(2.0), "retrieval": tf.constant(4.0)})
    >>> float(combine_losses(terms))
    4.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf


class LossWeighting(tf.keras.layers.Layer):
    """Base class: fixed per-task weights; subclasses make them dynamic.

    Args:
        task_names: Task names, in the order of `base_weights`.
        base_weights: One non-negative weight per task (the configured `TaskConfig.weight`).
    """

    def __init__(
        self, task_names: Sequence[str], base_weights: Sequence[float] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.task_names = tuple(task_names)
        self.base_weights = tuple(float(w) for w in (base_weights or [1.0] * len(self.task_names)))
        if len(self.base_weights) != len(self.task_names):
            raise ValueError(
                f"{type(self).__name__}: {len(self.base_weights)} weights for "
                f"{len(self.task_names)} tasks {self.task_names}"
            )

    @property
    def num_tasks(self) -> int:
        return len(self.task_names)

    def _stack(self, losses: Mapping[str, tf.Tensor]) -> tf.Tensor:
        missing = [name for name in self.task_names if name not in losses]
        if missing:
            raise KeyError(f"{type(self).__name__}: no loss for task(s) {missing}")
        return tf.stack([tf.cast(losses[name], tf.float32) for name in self.task_names])

    def _unstack(self, values: tf.Tensor) -> dict[str, tf.Tensor]:
        return {name: values[i] for i, name in enumerate(self.task_names)}

    def weight_vector(self) -> tf.Tensor:
        """The current weights `[num_tasks]`, in `task_names` order."""
        return tf.constant(self.base_weights, tf.float32)

    def task_weights(self) -> dict[str, tf.Tensor]:
        """The current weight of each task (reported as the `<task>/weight` metric)."""
        return self._unstack(self.weight_vector())

    def call(self, losses: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Weights each task's loss.

        Args:
            losses: Scalar loss of each task, keyed by task name.

        Returns:
            The weighted term of each task; the combined loss is their sum.
        """
        return self._unstack(self.weight_vector() * self._stack(losses))

    def observe(self, losses: Mapping[str, tf.Tensor]) -> None:
        """Records a training step's losses (for strategies that need their history)."""

    def end_epoch(self) -> None:
        """Called at each epoch boundary (eagerly, by `LossWeightingCallback`)."""

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {"task_names": list(self.task_names), "base_weights": list(self.base_weights)}
        )
        return config


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class FixedWeighting(LossWeighting):
    """Fixed weights: `L = sum_i w_i L_i`."""


def combine_losses(terms: Mapping[str, tf.Tensor]) -> tf.Tensor:
    """Sums weighted per-task terms into the scalar training loss."""
    return tf.add_n(list(terms.values()))


class LossWeightingCallback(tf.keras.callbacks.Callback):
    """Tells the model's loss weighting that an epoch ended (Dynamic Weight Average needs it).

    `MultiTaskModel.fit` adds it automatically; add it yourself in a custom loop.

    Args:
        weighting: The strategy to notify; defaults to `model.loss_weighting`.
    """

    def __init__(self, weighting: LossWeighting | None = None) -> None:
        super().__init__()
        self.weighting = weighting

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        weighting = self.weighting or getattr(self.model, "loss_weighting", None)
        if weighting is not None:
            weighting.end_epoch()
