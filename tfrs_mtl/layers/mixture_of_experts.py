"""`MixtureOfExperts`: Multi-gate Mixture-of-Experts (MMoE)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from tfrs_mtl.layers.expert_mixing import mix_experts
from tfrs_mtl.layers.multilayer_perceptron import MultiLayerPerceptron


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class MixtureOfExperts(tf.keras.layers.Layer):
    """MMoE: experts shared by all tasks, mixed by one softmax gate per task.

    Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
    Mixture-of-Experts", KDD 2018. Task `t` receives
    `sum_e softmax(W_t x + b_t)_e * expert_e(x)`.

    Args:
        task_names: one gate per task, keyed by name.
        num_experts: number of shared experts.
        expert_hidden_dims: sizes of each expert MLP's layers (all activated).
        activation: Keras activation of the experts.
        dropout: dropout after each expert layer (training only).
        **kwargs: passed to `tf.keras.layers.Layer`.

    Call: `[batch_size, input_dim]` -> `{task_name: [batch_size, expert_hidden_dims[-1]]}`.
    """

    def __init__(
        self,
        task_names: Sequence[str],
        num_experts: int = 4,
        expert_hidden_dims: Sequence[int] = (64,),
        activation: str = "relu",
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not task_names or num_experts < 1:
            raise ValueError("MixtureOfExperts: needs task_names and num_experts >= 1")
        self.task_names = tuple(task_names)
        self.num_experts = num_experts
        self.expert_hidden_dims = tuple(expert_hidden_dims)
        self.activation = activation
        self.dropout = dropout
        self.experts = [
            MultiLayerPerceptron(
                hidden_dims=self.expert_hidden_dims,
                activation=activation,
                dropout=dropout,
                name=f"expert_{index}",
            )
            for index in range(num_experts)
        ]
        self.gates = {
            task: tf.keras.layers.Dense(num_experts, name=f"gate_{task}")
            for task in self.task_names
        }

    @property
    def output_dim(self) -> int:
        """Width of each task's representation."""
        return self.expert_hidden_dims[-1]

    def gate_weights(self, inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        """Each task's softmax weights over the experts: `{task: [batch_size, num_experts]}`."""
        return {task: tf.nn.softmax(gate(inputs), axis=-1) for task, gate in self.gates.items()}

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> dict[str, tf.Tensor]:
        expert_outputs = [expert(inputs, training=training) for expert in self.experts]
        return {
            task: mix_experts(self.gates[task](inputs), expert_outputs) for task in self.task_names
        }

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "task_names": list(self.task_names),
                "num_experts": self.num_experts,
                "expert_hidden_dims": list(self.expert_hidden_dims),
                "activation": self.activation,
                "dropout": self.dropout,
            }
        )
        return config
