"""`AttributeTask` losses, label encoding, and the leakage guard."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.config import ConfigError
from tfrs_mtl.tasks import AttributeTask, TaskConfig, check_attribute_leakage, multi_hot


def test_multi_hot_ignores_padding() -> None:
    encoded = multi_hot(tf.constant([[0, 2, -1], [1, -1, -1]], tf.int64), 3)
    np.testing.assert_array_equal(encoded.numpy(), [[1, 0, 1], [0, 1, 0]])


def test_multi_label_loss_is_mean_sigmoid_cross_entropy() -> None:
    logits = np.array([[2.0, -1.0, 0.0]], np.float32)
    loss = AttributeTask("multi_label", num_classes=3, name="genres")(
        tf.constant([[0, 2, -1]]), tf.constant(logits)
    )
    labels = np.array([1.0, 0.0, 1.0])
    p = 1 / (1 + np.exp(-logits[0]))
    expected = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_multi_class_and_regression() -> None:
    logits = np.array([[1.0, 2.0, 0.5]], np.float32)
    loss = AttributeTask("multi_class", num_classes=3)(tf.constant([1]), tf.constant(logits))
    expected = -(2.0 - np.log(np.exp(logits).sum()))
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    regression = AttributeTask("regression", label_mean=10.0, label_std=2.0, name="price")
    loss = regression(tf.constant([12.0, 10.0]), tf.constant([0.0, 1.0]))
    assert float(loss) == pytest.approx((1.0 + 1.0) / 2)


def test_leakage_guard_names_task_feature_and_tower() -> None:
    task = TaskConfig(
        name="genres",
        kind="attribute",
        label_key="movie_genres",
        target="multi_label",
        num_classes=21,
        source_side="candidate",
    )
    with pytest.raises(ConfigError) as error:
        check_attribute_leakage(task, ("movie_id", "movie_genres"))
    message = str(error.value)
    assert "task 'genres' predicts 'movie_genres' from the candidate tower" in message
    assert "movielens_feature_spec(exclude=('movie_genres',))" in message
    check_attribute_leakage(task, ("movie_id", "movie_title"))


def test_config_round_trip() -> None:
    task = AttributeTask("regression", label_mean=1.0, label_std=3.0, name="age")
    assert AttributeTask.from_config(task.get_config()).get_config() == task.get_config()
