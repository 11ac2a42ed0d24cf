"""MixtureOfExperts: exact gate mixing with fixed weights, task keys, config round trip."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfrs_mtl.layers import MixtureOfExperts, mix_experts


def _fixed_mmoe() -> MixtureOfExperts:
    """Expert 0 returns x[:, :1], expert 1 returns x[:, 1:]; gates favour them 1:3 and 1:1."""
    layer = MixtureOfExperts(
        ["rating", "click"], num_experts=2, expert_hidden_dims=(1,), activation="linear"
    )
    layer(tf.zeros([1, 2]))
    layer.experts[0].set_weights([np.array([[1.0], [0.0]]), np.zeros(1)])
    layer.experts[1].set_weights([np.array([[0.0], [1.0]]), np.zeros(1)])
    layer.gates["rating"].set_weights([np.zeros([2, 2]), np.array([0.0, math.log(3.0)])])
    layer.gates["click"].set_weights([np.zeros([2, 2]), np.zeros(2)])
    return layer


def test_gate_softmax_mixes_experts_exactly() -> None:
    layer = _fixed_mmoe()
    inputs = tf.constant([[4.0, 8.0], [1.0, -1.0]])
    outputs = layer(inputs)
    assert sorted(outputs) == ["click", "rating"]
    # float32 softmax gates: exact to a few ulps.
    np.testing.assert_allclose(
        outputs["rating"].numpy(), [[0.25 * 4 + 0.75 * 8], [-0.5]], rtol=1e-6
    )
    np.testing.assert_allclose(outputs["click"].numpy(), [[6.0], [0.0]])
    np.testing.assert_allclose(layer.gate_weights(inputs)["rating"].numpy(), [[0.25, 0.75]] * 2)


def test_input_dependent_gate() -> None:
    weights = tf.constant([[0.0, 0.0], [math.log(4.0), 0.0]])
    mixed = mix_experts(weights, [tf.constant([[1.0], [1.0]]), tf.constant([[0.0], [5.0]])])
    np.testing.assert_allclose(mixed.numpy(), [[0.5], [0.8 * 1 + 0.2 * 5]])


def test_shapes_and_config_round_trip() -> None:
    layer = MixtureOfExperts(["a", "b", "c"], num_experts=3, expert_hidden_dims=(8, 4), name="m")
    inputs = tf.random.stateless_normal([5, 7], seed=[1, 2])
    outputs = layer(inputs)
    assert {task: tuple(value.shape) for task, value in outputs.items()} == {
        "a": (5, 4),
        "b": (5, 4),
        "c": (5, 4),
    }
    assert layer.output_dim == 4
    rebuilt = MixtureOfExperts.from_config(layer.get_config())
    rebuilt(inputs)
    rebuilt.set_weights(layer.get_weights())
    for task in ("a", "b", "c"):
        np.testing.assert_array_equal(rebuilt(inputs)[task].numpy(), outputs[task].numpy())
    # 3 experts x 2 layers x (kernel, bias) + 3 gates x (kernel, bias).
    assert len(layer.trainable_variables) == 12 + 6
