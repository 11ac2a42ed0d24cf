"""Uncertainty weighting (Kendall et al. 2018): exact terms and learned log-variances."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfrs_mtl.tasks import UncertaintyWeighting


def test_terms_match_the_formula() -> None:
    weighting = UncertaintyWeighting(("a", "b"))
    weighting.log_variances.assign([0.5, -1.0])
    terms = weighting({"a": tf.constant(2.0), "b": tf.constant(3.0)})
    np.testing.assert_allclose(float(terms["a"]), np.exp(-0.5) * 2.0 + 0.5, rtol=1e-6)
    np.testing.assert_allclose(float(terms["b"]), np.exp(1.0) * 3.0 - 1.0, rtol=1e-6)
    np.testing.assert_allclose(weighting.weight_vector().numpy(), np.exp([-0.5, 1.0]), rtol=1e-6)


def test_log_variances_converge_to_log_of_the_losses() -> None:
    weighting = UncertaintyWeighting(("small", "large"))
    losses = {"small": tf.constant(0.5), "large": tf.constant(4.0)}
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.2)
    for _ in range(300):
        with tf.GradientTape() as tape:
            total = tf.add_n(list(weighting(losses).values()))
        optimizer.apply_gradients(
            zip(
                tape.gradient(total, weighting.trainable_variables),
                weighting.trainable_variables,
                strict=True,
            )
        )
    np.testing.assert_allclose(weighting.log_variances.numpy(), np.log([0.5, 4.0]), atol=1e-3)


def test_noisier_task_gets_larger_log_variance_on_a_two_task_toy() -> None:
    # Two regression tasks share one linear layer; the second label carries 10x more noise.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    w_true = rng.normal(size=(4,)).astype(np.float32)
    y_clean = x @ w_true + 0.1 * rng.normal(size=256).astype(np.float32)
    y_noisy = x @ w_true + 1.0 * rng.normal(size=256).astype(np.float32)
    shared = tf.Variable(tf.zeros([4]))
    weighting = UncertaintyWeighting(("clean", "noisy"))
    variables = [shared, *weighting.trainable_variables]
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.05)
    for _ in range(300):
        with tf.GradientTape() as tape:
            prediction = tf.linalg.matvec(x, shared)
            losses = {
                "clean": tf.reduce_mean((prediction - y_clean) ** 2),
                "noisy": tf.reduce_mean((prediction - y_noisy) ** 2),
            }
            total = tf.add_n(list(weighting(losses).values()))
        optimizer.apply_gradients(zip(tape.gradient(total, variables), variables, strict=True))
    clean, noisy = weighting.log_variances.numpy()
    assert noisy > clean + 2.0  # noise variances 1.0 vs 0.01: log ratio ~ 4.6
    weights = weighting.task_weights()
    assert float(weights["clean"]) > float(weights["noisy"])
