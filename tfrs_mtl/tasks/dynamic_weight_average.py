"""Dynamic Weight Average (Liu, Johns and Davison, CVPR 2019, "End-to-End Multi-Task Learning
with Attention").

The weight of task k at epoch t follows the rate at which its loss fell over the last two
epochs:

    r_k(t-1) = L_k(t-1) / L_k(t-2),    lambda_k(t) = K exp(r_k(t-1) / T) / sum_i exp(r_i(t-1) / T)

where `L_k(t)` is the mean training loss of task k over epoch t and T the temperature; a task
whose loss falls more slowly gets a larger weight. For the first two epochs lambda = 1. The
configured task weights scale the result (`w_k = weight_k * lambda_k`). Epoch means are
accumulated in variables by `observe` (inside the compiled train step) and rolled over by
`end_epoch` (called by `LossWeightingCallback`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf

from tfrs_mtl.tasks.loss_weighting import LossWeighting


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class DynamicWeightAverage(LossWeighting):
    """Loss weights from the ratio of the last two epochs' mean losses.

    Args:
        task_names: Task names.
        base_weights: Per-task scale of the DWA weights (default 1).
        temperature: Softmax temperature T (the paper uses 2).
    """

    def __init__(
        self,
        task_names: Sequence[str],
        base_weights: Sequence[float] | None = None,
        temperature: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_names, base_weights, **kwargs)
        self.temperature = float(temperature)
        zeros = tf.keras.initializers.Zeros()
        self.epoch_loss_sum = self.add_weight(
            name="epoch_loss_sum", shape=(self.num_tasks,), initializer=zeros, trainable=False
        )
        self.epoch_steps = self.add_weight(
            name="epoch_steps", shape=(), initializer=zeros, trainable=False
        )
        # Row 0 is the previous epoch's mean loss, row 1 the one before.
        self.previous_losses = self.add_weight(
            name="previous_losses", shape=(2, self.num_tasks), initializer=zeros, trainable=False
        )
        self.num_epochs_seen = self.add_weight(
            name="num_epochs_seen", shape=(), initializer=zeros, trainable=False
        )

    def weight_vector(self) -> tf.Tensor:
        previous = tf.convert_to_tensor(self.previous_losses)
        ratio = previous[0] / tf.maximum(previous[1], 1e-12)
        dynamic = self.num_tasks * tf.nn.softmax(ratio / self.temperature)
        ready = self.num_epochs_seen >= 2.0
        dynamic = tf.where(ready, dynamic, tf.ones_like(dynamic))
        return tf.constant(self.base_weights, tf.float32) * tf.stop_gradient(dynamic)

    def observe(self, losses: Mapping[str, tf.Tensor]) -> None:
        self.epoch_loss_sum.assign_add(tf.stop_gradient(self._stack(losses)))
        self.epoch_steps.assign_add(1.0)

    def end_epoch(self) -> None:
        if float(self.epoch_steps.numpy()) == 0.0:
            return  # an epoch without training steps (e.g. evaluate) changes nothing
        mean = self.epoch_loss_sum / self.epoch_steps
        self.previous_losses.assign(tf.stack([mean, self.previous_losses[0]]))
        self.num_epochs_seen.assign_add(1.0)
        self.epoch_loss_sum.assign(tf.zeros_like(self.epoch_loss_sum))
        self.epoch_steps.assign(0.0)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["temperature"] = self.temperature
        return config
