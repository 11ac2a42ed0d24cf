"""`RatingTask` (MSE/Huber + RMSE) and `RatingBias` against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.tasks import RatingBias, RatingTask


def test_mse_and_rmse_metric() -> None:
    task = RatingTask(name="rating")
    loss = task(tf.constant([3.0, 5.0]), tf.constant([4.0, 2.0]))
    assert float(loss) == pytest.approx((1.0 + 9.0) / 2)
    (metric,) = [m for m in task.metrics if m.name == "rating/rmse"]
    assert float(metric.result()) == pytest.approx(np.sqrt(5.0))


def test_huber_loss() -> None:
    loss = RatingTask(regression_loss="huber", huber_delta=1.0)(
        tf.constant([0.0, 0.0]), tf.constant([0.5, 3.0])
    )
    assert float(loss) == pytest.approx((0.5 * 0.25 + (3.0 - 0.5)) / 2)


def test_bias_terms_add_up() -> None:
    bias = RatingBias(num_users=3, num_items=2, use_global_bias=True)
    bias.global_bias.assign(3.5)
    bias.user_bias.assign([0.0, 0.5, -1.0])
    bias.item_bias.assign([0.25, -0.25])
    values = bias(tf.constant([1, 2], tf.int64), tf.constant([0, 1], tf.int64))
    np.testing.assert_allclose(values.numpy(), [3.5 + 0.5 + 0.25, 3.5 - 1.0 - 0.25])
    assert len(bias.trainable_variables) == 3


def test_config_round_trips() -> None:
    task = RatingTask(regression_loss="huber", huber_delta=2.0, name="rating")
    assert RatingTask.from_config(task.get_config()).get_config() == task.get_config()
    bias = RatingBias(num_users=3, num_items=0, use_global_bias=False)
    assert RatingBias.from_config(bias.get_config()).get_config() == bias.get_config()
