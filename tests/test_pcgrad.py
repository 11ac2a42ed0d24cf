"""PCGrad (Yu et al. 2020) on hand-computable gradients."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfrs_mtl.tasks import project_conflicting_gradients


def test_conflicting_gradients_are_projected() -> None:
    variables = [tf.Variable([0.0, 0.0]), tf.Variable([[0.0]])]
    g1 = [tf.constant([1.0, 0.0]), tf.constant([[0.0]])]
    g2 = [tf.constant([-1.0, 1.0]), None]  # task 2 does not touch the second variable
    combined = project_conflicting_gradients([g1, g2], variables)
    # g1.g2 = -1: g1' = g1 + g2/2 = (0.5, 0.5, 0); g2' = g2 + g1 = (0, 1, 0).
    np.testing.assert_allclose(combined[0].numpy(), [0.5, 1.5])
    np.testing.assert_allclose(combined[1].numpy(), [[0.0]])


def test_agreeing_gradients_are_summed_unchanged() -> None:
    variables = [tf.Variable([0.0, 0.0, 0.0])]
    g1 = [tf.constant([1.0, 2.0, 0.0])]
    g2 = [tf.constant([0.5, 0.0, -1.0])]
    combined = project_conflicting_gradients([g1, g2], variables, shuffle=False)
    np.testing.assert_allclose(combined[0].numpy(), [1.5, 2.0, -1.0])


def test_sparse_gradients_are_densified() -> None:
    table = tf.Variable(tf.zeros([3, 2]))
    with tf.GradientTape(persistent=True) as tape:
        row = tf.gather(table, [1])
        loss_a = tf.reduce_sum(row * tf.constant([[1.0, 0.0]]))
        loss_b = tf.reduce_sum(row * tf.constant([[-1.0, 0.0]]))
    grads = [tape.gradient(loss, [table]) for loss in (loss_a, loss_b)]
    assert isinstance(grads[0][0], tf.IndexedSlices)
    combined = project_conflicting_gradients(grads, [table])
    # Exactly opposite gradients: each is projected to zero.
    np.testing.assert_allclose(combined[0].numpy(), np.zeros([3, 2]), atol=1e-7)
