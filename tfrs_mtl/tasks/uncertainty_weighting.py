"""Uncertainty weighting with learned log-variances (Kendall, Gal and Cipolla, CVPR 2018).

"Multi-Task Learning Using Uncertainty to Weigh Losses for Scene Geometry and Semantics".
Each task i has a learned `s_i = log(sigma_i^2)` and contributes

    term_i = exp(-s_i) * L_i + s_i

so the combined loss is `sum_i exp(-s_i) L_i + s_i`. Minimizing over `s_i` gives
`s_i* = log(L_i)`: a task with a larger (noisier) loss learns a larger log-variance, hence a
smaller weight `exp(-s_i)`, and the `+ s_i` term stops every weight from collapsing to 0.

On the 1/2 factors: the paper's Gaussian likelihood gives `1/2 exp(-s) L + 1/2 s` for a
regression task (exactly half of the term above, so the same optimum and the same gradients up
to a factor 2 that the optimizer's learning rate absorbs) and `exp(-s) L + 1/2 s` for a
classification task (optimum `s* = log(2 L)`, i.e. a weight smaller by a constant factor 2).
Like most implementations (e.g. LibMTL) we use the uniform form for every task; the reported
weight is `exp(-s_i)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf

from tfrs_mtl.tasks.loss_weighting import LossWeighting


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class UncertaintyWeighting(LossWeighting):
    """Learned homoscedastic-uncertainty weights: `L = sum_i exp(-s_i) L_i + s_i`.

    Args:
        task_names: Task names.
        base_weights: Unused by the strategy (kept for a uniform constructor).
        initial_log_variance: Initial value of every `s_i`.

    The variable `log_variances` `[num_tasks]` is trainable: the main optimizer updates it
    together with the model.
    """

    def __init__(
        self,
        task_names: Sequence[str],
        base_weights: Sequence[float] | None = None,
        initial_log_variance: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_names, base_weights, **kwargs)
        self.initial_log_variance = float(initial_log_variance)
        self.log_variances = self.add_weight(
            name="log_variances",
            shape=(self.num_tasks,),
            initializer=tf.keras.initializers.Constant(self.initial_log_variance),
            trainable=True,
        )

    def weight_vector(self) -> tf.Tensor:
        return tf.exp(-tf.convert_to_tensor(self.log_variances))

    def call(self, losses: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        log_variances = tf.convert_to_tensor(self.log_variances)
        return self._unstack(tf.exp(-log_variances) * self._stack(losses) + log_variances)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["initial_log_variance"] = self.initial_log_variance
        return config
