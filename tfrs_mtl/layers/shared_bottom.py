"""`SharedBottom`: one MLP whose output every task reads (the classic hard-sharing baseline)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from tfrs_mtl.layers.multilayer_perceptron import MultiLayerPerceptron


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class SharedBottom(tf.keras.layers.Layer):
    """Shared-bottom multi-task stack (Caruana, "Multitask Learning", 1997).

    Args:
        task_names: the tasks; each receives the same representation.
        hidden_dims: sizes of the shared MLP's layers (all activated).
        activation: Keras activation.
        dropout: dropout after each layer (training only).
        **kwargs: passed to `tf.keras.layers.Layer`.

    Call: `[batch_size, input_dim]` -> `{task_name: [batch_size, hidden_dims[-1]]}`.
    """

    def __init__(
        self,
        task_names: Sequence[str],
        hidden_dims: Sequence[int] = (64,),
        activation: str = "relu",
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not task_names:
            raise ValueError("SharedBottom: task_names must not be empty")
        self.task_names = tuple(task_names)
        self.hidden_dims = tuple(hidden_dims)
        self.activation = activation
        self.dropout = dropout
        self.bottom = MultiLayerPerceptron(
            hidden_dims=self.hidden_dims, activation=activation, dropout=dropout, name="bottom"
        )

    @property
    def output_dim(self) -> int:
        """Width of each task's representation."""
        return self.hidden_dims[-1]

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> dict[str, tf.Tensor]:
        shared = self.bottom(inputs, training=training)
        return {task: shared for task in self.task_names}

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "task_names": list(self.task_names),
                "hidden_dims": list(self.hidden_dims),
                "activation": self.activation,
                "dropout": self.dropout,
            }
        )
        return config
