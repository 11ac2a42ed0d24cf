"""GradNorm (Chen, Badrinarayanan, Lee and Rabinovich, ICML 2018, "GradNorm: Gradient
Normalization for Adaptive Loss Balancing in Deep Multitask Networks").

The weights w_i are tuned so that each task's weighted gradient norm on the last shared layer
W, `G_i = ||grad_W (w_i L_i)|| = w_i g_i`, approaches a common target scaled by the task's
relative inverse training rate:

    L_grad = sum_i | G_i - mean_j(G_j) * r_i^alpha |,    r_i = (L_i / L_i(0)) / mean_j(L_j / L_j(0))

with the target held constant. Since `G_i = w_i g_i` is linear in `w_i`, its gradient is exact
in closed form, `dL_grad / dw_i = sign(G_i - target_i) g_i`, and needs no second-order tape.
After each update the weights are clipped positive and renormalized to sum to the number of
tasks. The model's train step computes `g_i` (per-task gradient norms on the shared variables)
and calls `update`; the weights are not trainable by the main optimizer (the weighted loss sees
them through `stop_gradient`), otherwise it would drive them to zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf

from tfrs_mtl.tasks.loss_weighting import LossWeighting


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class GradNormWeighting(LossWeighting):
    """Loss weights balanced by gradient norms on the shared layer.

    Args:
        task_names: Task names.
        base_weights: Initial weights (renormalized to sum to the number of tasks).
        alpha: Asymmetry: 0 equalizes gradient norms, larger values favour slow tasks.
        learning_rate: Learning rate of the weights' own Adam optimizer.
    """

    def __init__(
        self,
        task_names: Sequence[str],
        base_weights: Sequence[float] | None = None,
        alpha: float = 1.5,
        learning_rate: float = 0.025,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_names, base_weights, **kwargs)
        self.alpha = float(alpha)
        self.learning_rate = float(learning_rate)
        initial = tf.constant(self.base_weights, tf.float32)
        initial = initial * self.num_tasks / tf.maximum(tf.reduce_sum(initial), 1e-12)
        self.loss_weights = self.add_weight(
            name="loss_weights",
            shape=(self.num_tasks,),
            initializer=tf.keras.initializers.Constant(initial.numpy()),
            trainable=False,
        )
        self.initial_losses = self.add_weight(
            name="initial_losses",
            shape=(self.num_tasks,),
            initializer=tf.keras.initializers.Zeros(),
            trainable=False,
        )
        self.weight_optimizer = tf.keras.optimizers.Adam(learning_rate=self.learning_rate)
        # Slots now, not inside the first compiled step (which would then be traced twice).
        self.weight_optimizer.build([self.loss_weights])

    def weight_vector(self) -> tf.Tensor:
        return tf.stop_gradient(tf.convert_to_tensor(self.loss_weights))

    def gradnorm_loss(
        self, losses: Mapping[str, tf.Tensor], gradient_norms: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """The GradNorm objective and its gradient with respect to the weights.

        Args:
            losses: Unweighted loss of each task (scalars).
            gradient_norms: `[num_tasks]` norms g_i of each unweighted task loss's gradient
                with respect to the shared variables.

        Returns:
            `(L_grad, dL_grad/dw)`, a scalar and a `[num_tasks]` tensor.
        """
        task_losses = tf.stop_gradient(self._stack(losses))
        initial = tf.where(self.initial_losses > 0, self.initial_losses, task_losses)
        weighted_norms = self.weight_vector() * gradient_norms
        loss_ratio = task_losses / tf.maximum(initial, 1e-12)
        inverse_rate = loss_ratio / tf.maximum(tf.reduce_mean(loss_ratio), 1e-12)
        target = tf.reduce_mean(weighted_norms) * inverse_rate**self.alpha
        difference = weighted_norms - target
        return tf.reduce_sum(tf.abs(difference)), tf.sign(difference) * gradient_norms

    def update(self, losses: Mapping[str, tf.Tensor], gradient_norms: tf.Tensor) -> tf.Tensor:
        """One GradNorm step on the weights; returns L_grad (before the step)."""
        task_losses = tf.stop_gradient(self._stack(losses))
        # L_i(0) is the first step's loss; later steps measure training rates against it.
        self.initial_losses.assign(
            tf.where(self.initial_losses > 0, self.initial_losses, task_losses)
        )
        objective, gradient = self.gradnorm_loss(losses, gradient_norms)
        self.weight_optimizer.apply_gradients([(gradient, self.loss_weights)])
        positive = tf.maximum(self.loss_weights, 1e-3)
        self.loss_weights.assign(positive * self.num_tasks / tf.reduce_sum(positive))
        return objective

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"alpha": self.alpha, "learning_rate": self.learning_rate})
        return config
