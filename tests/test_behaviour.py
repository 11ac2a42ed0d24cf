"""`BinaryTask`: binary cross-entropy on probabilities, with AUC."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.tasks import BinaryTask


def test_binary_cross_entropy_and_auc() -> None:
    task = BinaryTask(name="click")
    labels = np.array([1, 0, 1, 0])
    probabilities = np.array([0.9, 0.2, 0.6, 0.7], np.float32)
    loss = task(tf.constant(labels), tf.constant(probabilities))
    expected = -np.mean(labels * np.log(probabilities) + (1 - labels) * np.log(1 - probabilities))
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    (auc,) = [m for m in task.metrics if m.name == "click/auc"]
    assert float(auc.result()) == pytest.approx(0.75, abs=0.01)  # 3 of 4 pairs ordered


def test_config_round_trip() -> None:
    task = BinaryTask(name="purchase")
    assert BinaryTask.from_config(task.get_config()).get_config() == task.get_config()
