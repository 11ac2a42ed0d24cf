"""TaskHead and MultiLayerPerceptron: shapes, output activation, round trip."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.layers import MultiLayerPerceptron, TaskHead


def test_linear_head_is_exact() -> None:
    head = TaskHead(output_dim=1)
    head(tf.zeros([1, 2]))
    head.set_weights([np.array([[2.0], [-1.0]]), np.array([0.5])])
    np.testing.assert_allclose(head(tf.constant([[3.0, 1.0]])).numpy(), [[5.5]])


def test_output_activation_and_shape() -> None:
    head = TaskHead(hidden_dims=(8,), output_dim=3, output_activation="sigmoid")
    outputs = head(tf.random.stateless_normal([4, 5], seed=[7, 8])).numpy()
    assert outputs.shape == (4, 3)
    assert ((outputs > 0) & (outputs < 1)).all()


@pytest.mark.parametrize(
    "layer",
    [
        TaskHead(hidden_dims=(4,), output_dim=2, output_activation="softmax", name="h"),
        MultiLayerPerceptron(hidden_dims=(3, 2), dropout=0.1, name="mlp"),
    ],
)
def test_config_round_trip(layer: tf.keras.layers.Layer) -> None:
    inputs = tf.random.stateless_normal([2, 5], seed=[9, 10])
    expected = layer(inputs).numpy()
    rebuilt = type(layer).from_config(layer.get_config())
    rebuilt(inputs)
    rebuilt.set_weights(layer.get_weights())
    np.testing.assert_array_equal(rebuilt(inputs).numpy(), expected)


def test_perceptron_needs_a_size() -> None:
    with pytest.raises(ValueError, match="give hidden_dims or output_dim"):
        MultiLayerPerceptron()
