"""CustomizedGateControl (CGC / PLE): exact CGC mixing, PLE level wiring, round trip."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfrs_mtl.layers import CustomizedGateControl


def test_cgc_task_gate_mixes_own_and_shared_experts_exactly() -> None:
    layer = CustomizedGateControl(
        ["a", "b"], num_shared_experts=1, num_task_experts=1, expert_hidden_dims=(1,),
        activation="linear",
    )  # fmt: skip
    inputs = tf.constant([[1.0, 10.0, 100.0]])
    layer(inputs)
    picks = {"shared": [0, 0, 1.0], "a": [1.0, 0, 0], "b": [0, 1.0, 0]}
    for owner, kernel in picks.items():
        expert = layer.experts[f"level_0_{owner}_expert_0"]
        expert.set_weights([np.array(kernel).reshape(3, 1), np.zeros(1)])
    # Gate columns: the task's own experts first, then the shared ones.
    layer.gates["level_0_gate_a"].set_weights([np.zeros([3, 2]), np.array([math.log(3.0), 0])])
    layer.gates["level_0_gate_b"].set_weights([np.zeros([3, 2]), np.zeros(2)])
    outputs = layer(inputs)
    np.testing.assert_allclose(outputs["a"].numpy(), [[0.75 * 1 + 0.25 * 100]], rtol=1e-6)
    np.testing.assert_allclose(outputs["b"].numpy(), [[0.5 * 10 + 0.5 * 100]], rtol=1e-6)


def test_ple_levels_and_gate_sizes() -> None:
    layer = CustomizedGateControl(
        ["a", "b"], num_shared_experts=2, num_task_experts=1, expert_hidden_dims=(4,),
        num_levels=2,
    )  # fmt: skip
    outputs = layer(tf.ones([3, 5]))
    assert {task: tuple(value.shape) for task, value in outputs.items()} == {
        "a": (3, 4),
        "b": (3, 4),
    }
    assert sorted(layer.gates) == [
        "level_0_gate_a",
        "level_0_gate_b",
        "level_0_gate_shared",
        "level_1_gate_a",
        "level_1_gate_b",
    ]
    assert layer.gates["level_0_gate_shared"].units == 2 + 2 * 1  # every expert of the level
    assert layer.gates["level_1_gate_a"].units == 1 + 2
    assert len(layer.experts) == 2 * (2 + 2 * 1)
    # Level-1 experts read the level-0 mixtures (width 4), not the raw input (width 5).
    assert layer.experts["level_1_shared_expert_0"].weights[0].shape == (4, 4)


def test_task_outputs_differ_and_round_trip() -> None:
    layer = CustomizedGateControl(["a", "b"], expert_hidden_dims=(6,), num_levels=2, name="ple")
    inputs = tf.random.stateless_normal([4, 3], seed=[3, 4])
    outputs = layer(inputs)
    assert not np.allclose(outputs["a"].numpy(), outputs["b"].numpy())
    rebuilt = CustomizedGateControl.from_config(layer.get_config())
    rebuilt(inputs)
    rebuilt.set_weights(layer.get_weights())
    for task in ("a", "b"):
        np.testing.assert_array_equal(rebuilt(inputs)[task].numpy(), outputs[task].numpy())
