"""User-interest profiles (vectorized histograms) and the KL / cross-entropy loss."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.tasks import UserInterestTask, attach_interest_profiles, compute_interest_profiles


def test_profiles_are_normalized_histograms_of_training_items() -> None:
    users = np.array(["u2", "u1", "u2", "u3"])
    genres = np.array([[0, 1], [2, -1], [1, -1], [-1, -1]])
    found, profiles = compute_interest_profiles(users, genres, num_classes=3)
    assert found.tolist() == ["u1", "u2", "u3"]
    np.testing.assert_allclose(profiles, [[0, 0, 1], [1 / 3, 2 / 3, 0], [0, 0, 0]])


def test_attach_adds_a_key_without_mutating_and_zeros_unknown_users() -> None:
    arrays = {"user_id": np.array(["u1", "u9"])}
    attached = attach_interest_profiles(
        arrays, np.array(["u1"]), np.array([[0.5, 0.5]], np.float32)
    )
    assert list(arrays) == ["user_id"]
    np.testing.assert_allclose(attached["user_genre_profile"], [[0.5, 0.5], [0.0, 0.0]])


def test_kl_and_cross_entropy() -> None:
    labels = np.array([[0.5, 0.5, 0.0]], np.float32)
    logits = np.array([[1.0, 0.0, -1.0]], np.float32)
    log_p = logits - np.log(np.exp(logits).sum())
    cross_entropy = -(labels * log_p).sum()
    kl = cross_entropy - np.log(2.0)
    assert float(UserInterestTask()(tf.constant(labels), tf.constant(logits))) == pytest.approx(
        kl, rel=1e-5
    )
    ce = UserInterestTask("cross_entropy")(tf.constant(labels), tf.constant(logits))
    assert float(ce) == pytest.approx(cross_entropy, rel=1e-5)
    task = UserInterestTask("cross_entropy", name="interest")
    assert UserInterestTask.from_config(task.get_config()).get_config() == task.get_config()
