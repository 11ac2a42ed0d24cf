"""`MultiLayerPerceptron`: Dense layers with dropout, the building block of towers and heads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class MultiLayerPerceptron(tf.keras.layers.Layer):
    """Hidden Dense layers (activation, then dropout), then an optional output Dense layer.

    Args:
        hidden_dims: sizes of the hidden layers.
        output_dim: size of the final layer (None: the last hidden layer is the output).
        activation: Keras activation of the hidden layers.
        output_activation: activation of the output layer (None: linear).
        dropout: rate of the dropout after each hidden layer (active only in training).
        **kwargs: passed to `tf.keras.layers.Layer`.

    Call: `[batch_size, input_dim]` -> `[batch_size, output_dim or hidden_dims[-1]]`.
    """

    def __init__(
        self,
        hidden_dims: Sequence[int] = (),
        output_dim: int | None = None,
        activation: str = "relu",
        output_activation: str | None = None,
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not hidden_dims and output_dim is None:
            raise ValueError("MultiLayerPerceptron: give hidden_dims or output_dim")
        self.hidden_dims = tuple(hidden_dims)
        self.output_dim = output_dim
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        self._dense_layers = [
            tf.keras.layers.Dense(dim, activation=activation, name=f"hidden_{i}")
            for i, dim in enumerate(self.hidden_dims)
        ]
        self._dropout_layers = [tf.keras.layers.Dropout(dropout) for _ in self.hidden_dims]
        self._output_layer = (
            tf.keras.layers.Dense(output_dim, activation=output_activation, name="output")
            if output_dim is not None
            else None
        )

    @property
    def units(self) -> int:
        """Width of the output."""
        return self.output_dim if self.output_dim is not None else self.hidden_dims[-1]

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        outputs = inputs
        for dense, dropout in zip(self._dense_layers, self._dropout_layers, strict=True):
            outputs = dense(outputs)
            if self.dropout > 0:
                outputs = dropout(outputs, training=training)
        if self._output_layer is not None:
            outputs = self._output_layer(outputs)
        return outputs

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
