"""PairInteraction: exact concat[q, c, q*c, q.c], DCN cross option, round trip."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.layers import PairInteraction


def test_exact_pair_features() -> None:
    outputs = PairInteraction()((tf.constant([[1.0, 2.0]]), tf.constant([[3.0, 4.0]])))
    np.testing.assert_array_equal(outputs.numpy(), [[1, 2, 3, 4, 3, 8, 11]])
    assert PairInteraction.output_dim_for(2) == 7


def test_cross_layers_keep_the_width_and_add_weights() -> None:
    layer = PairInteraction(use_cross=True, num_cross_layers=2, cross_projection_dim=3)
    query = tf.random.stateless_normal([4, 5], seed=[0, 1])
    outputs = layer((query, query))
    assert outputs.shape == (4, 16)
    assert len(layer.trainable_variables) == 2 * 3  # two low-rank cross layers: U, V, bias


def test_mismatched_widths_are_explained() -> None:
    with pytest.raises(ValueError, match="query width 2 != candidate width 3"):
        PairInteraction()((tf.ones([1, 2]), tf.ones([1, 3])))


def test_config_round_trip() -> None:
    layer = PairInteraction(use_cross=True, name="pair")
    inputs = (tf.random.stateless_normal([2, 3], seed=[5, 6]), tf.ones([2, 3]))
    expected = layer(inputs).numpy()
    rebuilt = PairInteraction.from_config(layer.get_config())
    rebuilt(inputs)
    rebuilt.set_weights(layer.get_weights())
    np.testing.assert_array_equal(rebuilt(inputs).numpy(), expected)
