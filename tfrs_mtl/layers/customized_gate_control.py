"""`CustomizedGateControl`: CGC, and PLE when stacked over several levels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from tfrs_mtl.layers.expert_mixing import mix_experts
from tfrs_mtl.layers.multilayer_perceptron import MultiLayerPerceptron


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class CustomizedGateControl(tf.keras.layers.Layer):
    """Progressive Layered Extraction (PLE) with Customized Gate Control (CGC) levels.

    Tang et al., "Progressive Layered Extraction (PLE): A Novel Multi-Task Learning (MTL)
    Model for Personalized Recommendations", RecSys 2020. Each level has shared experts and
    experts private to each task. Task `t`'s gate mixes its own experts and the shared ones,
    reading task `t`'s input; below the last level a shared gate mixes ALL experts of the level
    into the next level's shared input. Level 1 reads the stack's input everywhere. One level is
    CGC.

    Args:
        task_names: the tasks; each gets private experts and a gate per level.
        num_shared_experts: shared experts per level (0 allowed with one level).
        num_task_experts: private experts per task per level.
        expert_hidden_dims: sizes of each expert MLP's layers (all activated).
        num_levels: extraction levels.
        activation: Keras activation of the experts.
        dropout: dropout after each expert layer (training only).
        **kwargs: passed to `tf.keras.layers.Layer`.

    Call: `[batch_size, input_dim]` -> `{task_name: [batch_size, expert_hidden_dims[-1]]}`.
    """

    def __init__(
        self,
        task_names: Sequence[str],
        num_shared_experts: int = 1,
        num_task_experts: int = 1,
        expert_hidden_dims: Sequence[int] = (64,),
        num_levels: int = 1,
        activation: str = "relu",
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not task_names or num_task_experts < 1 or num_levels < 1 or num_shared_experts < 0:
            raise ValueError(
                "CustomizedGateControl: needs task_names, num_task_experts >= 1, "
                "num_levels >= 1, num_shared_experts >= 0"
            )
        if num_levels > 1 and num_shared_experts == 0:
            raise ValueError("CustomizedGateControl: num_levels > 1 needs num_shared_experts >= 1")
        self.task_names = tuple(task_names)
        self.num_shared_experts = num_shared_experts
        self.num_task_experts = num_task_experts
        self.expert_hidden_dims = tuple(expert_hidden_dims)
        self.num_levels = num_levels
        self.activation = activation
        self.dropout = dropout
        # Flat name-keyed dicts keep Keras' weight tracking simple and the names readable.
        self.experts: dict[str, MultiLayerPerceptron] = {}
        self.gates: dict[str, tf.keras.layers.Layer] = {}
        num_all_experts = num_shared_experts + len(self.task_names) * num_task_experts
        for level in range(num_levels):
            for owner in ("shared", *self.task_names):
                count = num_shared_experts if owner == "shared" else num_task_experts
                for index in range(count):
                    name = self._expert_name(level, owner, index)
                    self.experts[name] = MultiLayerPerceptron(
                        hidden_dims=self.expert_hidden_dims,
                        activation=activation,
                        dropout=dropout,
                        name=name,
                    )
            for task in self.task_names:
                name = f"level_{level}_gate_{task}"
                self.gates[name] = tf.keras.layers.Dense(
                    num_task_experts + num_shared_experts, name=name
                )
            if level < num_levels - 1:
                name = f"level_{level}_gate_shared"
                self.gates[name] = tf.keras.layers.Dense(num_all_experts, name=name)

    @staticmethod
    def _expert_name(level: int, owner: str, index: int) -> str:
        return f"level_{level}_{owner}_expert_{index}"

    @property
    def output_dim(self) -> int:
        """Width of each task's representation."""
        return self.expert_hidden_dims[-1]

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> dict[str, tf.Tensor]:
        task_inputs = {task: inputs for task in self.task_names}
        shared_input = inputs
        for level in range(self.num_levels):
            shared_outputs = [
                self.experts[self._expert_name(level, "shared", index)](
                    shared_input, training=training
                )
                for index in range(self.num_shared_experts)
            ]
            task_outputs = {
                task: [
                    self.experts[self._expert_name(level, task, index)](
                        task_inputs[task], training=training
                    )
                    for index in range(self.num_task_experts)
                ]
                for task in self.task_names
            }
            next_task_inputs = {
                task: mix_experts(
                    self.gates[f"level_{level}_gate_{task}"](task_inputs[task]),
                    task_outputs[task] + shared_outputs,
                )
                for task in self.task_names
            }
            if level < self.num_levels - 1:
                every_expert = shared_outputs + [
                    output for task in self.task_names for output in task_outputs[task]
                ]
                shared_input = mix_experts(
                    self.gates[f"level_{level}_gate_shared"](shared_input), every_expert
                )
            task_inputs = next_task_inputs
        return task_inputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "task_names": list(self.task_names),
                "num_shared_experts": self.num_shared_experts,
                "num_task_experts": self.num_task_experts,
                "expert_hidden_dims": list(self.expert_hidden_dims),
                "num_levels": self.num_levels,
                "activation": self.activation,
                "dropout": self.dropout,
            }
        )
        return config
