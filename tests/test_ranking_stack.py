"""build_ranking_stack and SharedBottom: the config picks the stack; shared-bottom sharing."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.layers import (
    CustomizedGateControl,
    ExpertsConfig,
    MixtureOfExperts,
    SharedBottom,
    build_ranking_stack,
)


@pytest.mark.parametrize(
    ("architecture", "layer_class"),
    [
        ("shared_bottom", SharedBottom),
        ("mmoe", MixtureOfExperts),
        ("ple", CustomizedGateControl),
    ],
)
def test_config_picks_the_stack(architecture: str, layer_class: type) -> None:
    config = ExpertsConfig(architecture=architecture, expert_hidden_dims=(8, 3), num_levels=2)
    stack = build_ranking_stack(config, ("rating", "click"), name="stack")
    assert isinstance(stack, layer_class)
    assert stack.name == "stack"
    outputs = stack(tf.ones([2, 4]))
    assert sorted(outputs) == ["click", "rating"]
    assert outputs["rating"].shape == (2, stack.output_dim) == (2, 3)


def test_shared_bottom_gives_every_task_the_same_representation_and_round_trips() -> None:
    layer = SharedBottom(["a", "b"], hidden_dims=(4,), name="bottom")
    inputs = tf.random.stateless_normal([3, 2], seed=[1, 1])
    outputs = layer(inputs)
    np.testing.assert_array_equal(outputs["a"].numpy(), outputs["b"].numpy())
    rebuilt = SharedBottom.from_config(layer.get_config())
    rebuilt(inputs)
    rebuilt.set_weights(layer.get_weights())
    np.testing.assert_array_equal(rebuilt(inputs)["a"].numpy(), outputs["a"].numpy())
