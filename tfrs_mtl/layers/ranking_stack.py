"""`build_ranking_stack`: the ranking stack an `ExpertsConfig` describes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from tfrs_mtl.layers.configs import ExpertsConfig
from tfrs_mtl.layers.customized_gate_control import CustomizedGateControl
from tfrs_mtl.layers.mixture_of_experts import MixtureOfExperts
from tfrs_mtl.layers.shared_bottom import SharedBottom


def build_ranking_stack(
    config: ExpertsConfig, task_names: Sequence[str], **kwargs: Any
) -> tf.keras.layers.Layer:
    """Builds `SharedBottom`, `MixtureOfExperts` or `CustomizedGateControl` from `config`.

    Args:
        config: the stack's architecture and sizes.
        task_names: the tasks (gate keys and output keys).
        **kwargs: passed to the layer (e.g. `name`).

    Returns:
        A layer `[batch_size, input_dim]` -> `{task: [batch_size, expert_hidden_dims[-1]]}`.
    """
    common = {"activation": config.activation, "dropout": config.dropout, **kwargs}
    if config.architecture == "shared_bottom":
        return SharedBottom(task_names, hidden_dims=config.expert_hidden_dims, **common)
    if config.architecture == "mmoe":
        return MixtureOfExperts(
            task_names,
            num_experts=config.num_experts,
            expert_hidden_dims=config.expert_hidden_dims,
            **common,
        )
    return CustomizedGateControl(
        task_names,
        num_shared_experts=config.num_shared_experts,
        num_task_experts=config.num_task_experts,
        expert_hidden_dims=config.expert_hidden_dims,
        num_levels=config.num_levels,
        **common,
    )
