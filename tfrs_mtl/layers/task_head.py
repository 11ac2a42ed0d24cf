"""`TaskHead`: a task's representation -> its output (rating, logit, class logits, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from tfrs_mtl.layers.multilayer_perceptron import MultiLayerPerceptron


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class TaskHead(tf.keras.layers.Layer):
    """An MLP ending in `output_dim` units.

    Args:
        hidden_dims: hidden layer sizes (may be empty: a linear head).
        output_dim: output units (1 for a rating or a binary logit, `num_classes` otherwise).
        activation: Keras activation of the hidden layers.
        output_activation: activation of the output (None: logits / raw values).
        dropout: dropout after each hidden layer (training only).
        **kwargs: passed to `tf.keras.layers.Layer`.

    Call: `[batch_size, input_dim]` -> `[batch_size, output_dim]`.
    """

    def __init__(
        self,
        hidden_dims: Sequence[int] = (),
        output_dim: int = 1,
        activation: str = "relu",
        output_activation: str | None = None,
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.hidden_dims = tuple(hidden_dims)
        self.output_dim = output_dim
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        self.network = MultiLayerPerceptron(
            hidden_dims=self.hidden_dims,
            output_dim=output_dim,
            activation=activation,
            output_activation=output_activation,
            dropout=dropout,
            name="network",
        )

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        return self.network(inputs, training=training)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "hidden_dims": list(self.hidden_dims),
                "output_dim": self.output_dim,
                "activation": self.activation,
                "output_activation": self.output_activation,
                "dropout": self.dropout,
            }
        )
        return config
