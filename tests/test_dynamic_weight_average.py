"""Dynamic Weight Average (Liu et al. 2019) against a hand computation."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfrs_mtl.tasks import DynamicWeightAverage


def _epoch(weighting: DynamicWeightAverage, *steps: tuple[float, float]) -> None:
    for a, b in steps:
        weighting.observe({"a": tf.constant(a), "b": tf.constant(b)})
    weighting.end_epoch()


def test_weights_are_one_for_the_first_two_epochs_then_follow_loss_ratios() -> None:
    weighting = DynamicWeightAverage(("a", "b"), base_weights=(1.0, 2.0), temperature=2.0)
    np.testing.assert_allclose(weighting.weight_vector().numpy(), [1.0, 2.0])
    _epoch(weighting, (4.0, 2.0), (2.0, 2.0))  # means: a=3, b=2
    np.testing.assert_allclose(weighting.weight_vector().numpy(), [1.0, 2.0])
    _epoch(weighting, (1.5, 2.0))  # means: a=1.5, b=2
    ratios = np.array([1.5 / 3.0, 2.0 / 2.0])
    expected = 2 * np.exp(ratios / 2.0) / np.exp(ratios / 2.0).sum() * np.array([1.0, 2.0])
    np.testing.assert_allclose(weighting.weight_vector().numpy(), expected, rtol=1e-6)
    # "b" fell more slowly, so it is weighted up relative to "a".
    terms = weighting({"a": tf.constant(1.0), "b": tf.constant(1.0)})
    np.testing.assert_allclose([float(terms["a"]), float(terms["b"])], expected, rtol=1e-6)


def test_an_epoch_without_training_steps_changes_nothing() -> None:
    weighting = DynamicWeightAverage(("a", "b"))
    weighting.end_epoch()
    assert float(weighting.num_epochs_seen.numpy()) == 0.0
