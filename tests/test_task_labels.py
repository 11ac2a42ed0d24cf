"""`TaskLabels`: a label vocabulary's rows, one extra class for unseen values, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.models.task_labels import TaskLabels
from tfrs_mtl.tasks import TaskConfig

OCCUPATION = TaskConfig(
    name="occupation", kind="attribute", label_key="occ", target="multi_class", num_classes=3
)
RATING = TaskConfig(name="rating", kind="rating", label_key="user_rating")


def test_vocabulary_labels_read_their_rows_and_unseen_values_the_extra_class() -> None:
    labels = TaskLabels({"occupation": ("nurse", "writer")})
    batch = {"occ": tf.constant(["writer", "nurse", "pilot"])}
    np.testing.assert_array_equal(labels(OCCUPATION, batch).numpy(), [1, 0, 2])


def test_labels_without_a_vocabulary_are_read_as_they_are() -> None:
    ratings = tf.constant([4.0, 1.0])
    assert TaskLabels({})(RATING, {"user_rating": ratings}) is ratings


def test_a_missing_label_names_the_task_the_key_and_the_keys_found() -> None:
    message = r"task 'rating': label 'user_rating' is missing .*\['occ'\]"
    with pytest.raises(KeyError, match=message):
        TaskLabels({})(RATING, {"occ": tf.constant(["nurse"])})
