"""Softmax gating over expert outputs, shared by MMoE and CGC/PLE."""

from __future__ import annotations

import tensorflow as tf


def mix_experts(gate_logits: tf.Tensor, expert_outputs: list[tf.Tensor]) -> tf.Tensor:
    """Mixes experts with softmax gate weights.

    Args:
        gate_logits: `[batch_size, num_experts]`.
        expert_outputs: `num_experts` tensors `[batch_size, dim]`.

    Returns:
        `sum_e softmax(gate_logits)[:, e] * expert_outputs[e]`: `[batch_size, dim]`.
    """
    weights = tf.nn.softmax(gate_logits, axis=-1)
    stacked = tf.stack(expert_outputs, axis=1)  # [batch_size, num_experts, dim]
    return tf.einsum("be,bed->bd", weights, stacked)
