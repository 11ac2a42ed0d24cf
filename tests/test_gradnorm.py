"""GradNorm (Chen et al. 2018): closed-form gradient, and norms balanced on a synthetic problem."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfrs_mtl.tasks import GradNormWeighting


def test_closed_form_gradient_matches_autodiff() -> None:
    weighting = GradNormWeighting(("a", "b"), alpha=1.0)
    weighting.loss_weights.assign([0.5, 1.5])
    weighting.initial_losses.assign([2.0, 1.0])
    losses = {"a": tf.constant(1.0), "b": tf.constant(1.0)}
    norms = tf.constant([3.0, 1.0])
    objective, gradient = weighting.gradnorm_loss(losses, norms)
    # G = (1.5, 1.5); ratios (0.5, 1.0) / 0.75; target = 1.5 * (2/3, 4/3) = (1, 2).
    np.testing.assert_allclose(float(objective), 0.5 + 0.5, rtol=1e-6)
    w = tf.Variable([0.5, 1.5])
    with tf.GradientTape() as tape:
        target = tf.constant([1.0, 2.0])
        autodiff_objective = tf.reduce_sum(tf.abs(w * norms - target))
    np.testing.assert_allclose(gradient.numpy(), tape.gradient(autodiff_objective, w).numpy())


def _norm_ratio(gradnorm: bool, steps: int = 100) -> tuple[float, float]:
    """Trains a shared layer with two heads whose losses differ 100x in scale.

    Returns the ratio max/min of the weighted task-gradient norms on the shared layer at the
    first and the last step.
    """
    tf.keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(128, 6)).astype(np.float32)
    y_small = (x @ rng.normal(size=6)).astype(np.float32)
    y_large = 10.0 * (x @ rng.normal(size=6)).astype(np.float32)
    shared = tf.keras.layers.Dense(8, activation="tanh")
    heads = {"small": tf.keras.layers.Dense(1), "large": tf.keras.layers.Dense(1)}
    labels = {"small": y_small, "large": y_large}
    weighting = GradNormWeighting(("small", "large"), alpha=0.0, learning_rate=0.05)
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.01)
    ratios = []
    for _ in range(steps):
        with tf.GradientTape(persistent=True) as tape:
            hidden = shared(x)
            losses = {
                name: tf.reduce_mean((tf.squeeze(head(hidden), -1) - labels[name]) ** 2)
                for name, head in heads.items()
            }
            total = tf.add_n(list(weighting(losses).values()))
        norms = tf.stack(
            [
                tf.linalg.global_norm(tape.gradient(losses[name], shared.trainable_variables))
                for name in weighting.task_names
            ]
        )
        weighted = weighting.weight_vector() * norms
        ratios.append(float(tf.reduce_max(weighted) / tf.reduce_min(weighted)))
        variables = shared.trainable_variables + [
            v for head in heads.values() for v in head.trainable_variables
        ]
        optimizer.apply_gradients(zip(tape.gradient(total, variables), variables, strict=True))
        if gradnorm:
            weighting.update(losses, norms)
        del tape
    return ratios[0], ratios[-1]


def test_gradnorm_narrows_the_gradient_norm_ratio() -> None:
    first, last = _norm_ratio(gradnorm=True)
    _, last_without = _norm_ratio(gradnorm=False)
    assert first > 10.0  # the large task dominates the shared layer at the start
    assert last < first / 5.0
    assert last < last_without / 2.0
