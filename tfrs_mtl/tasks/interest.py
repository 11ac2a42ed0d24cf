"""User interest: predict a user's distribution over classes (genres, categories).

The label is a user profile: the normalized histogram of the classes of the user's TRAINING
items (`compute_interest_profiles`), attached to every example of that user as a feature key
such as `user_genre_profile` `[batch_size, num_classes]` (`attach_interest_profiles`). The
query tower predicts it through a softmax head; the loss is the KL divergence (or the
cross-entropy, which differs by the label's constant entropy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf


def compute_interest_profiles(
    user_ids: np.ndarray, item_classes: np.ndarray, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-user normalized class histograms, vectorized (no per-example Python).

    Args:
        user_ids: `[num_examples]` user of each training interaction.
        item_classes: `[num_examples, max_len]` class indices of the interaction's item,
            padded with -1 (or `[num_examples]` for one class per item).
        num_classes: Number of classes.

    Returns:
        `(users, profiles)`: sorted unique users `[num_users]` and their profiles
        `[num_users, num_classes]` float32, each row summing to 1 (0 for a user whose items
        have no class).
    """
    classes = np.asarray(item_classes)
    if classes.ndim == 1:
        classes = classes[:, None]
    users, user_rows = np.unique(np.asarray(user_ids), return_inverse=True)
    rows = np.repeat(user_rows.reshape(-1), classes.shape[1])
    flat = classes.reshape(-1).astype(np.int64)
    present = (flat >= 0) & (flat < num_classes)
    counts = np.bincount(
        rows[present] * num_classes + flat[present], minlength=len(users) * num_classes
    ).reshape(len(users), num_classes)
    totals = counts.sum(axis=1, keepdims=True)
    profiles = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    return users, profiles.astype(np.float32)


def attach_interest_profiles(
    arrays: Mapping[str, np.ndarray],
    users: np.ndarray,
    profiles: np.ndarray,
    user_key: str = "user_id",
    profile_key: str = "user_genre_profile",
) -> dict[str, np.ndarray]:
    """A new dict with `profile_key` `[num_examples, num_classes]` added (input unchanged).

    Users unknown to the profiles (not in the training data) get an all-zero row, which adds
    nothing to the loss.
    """
    keys = np.asarray(arrays[user_key])
    positions = np.clip(np.searchsorted(users, keys), 0, max(len(users) - 1, 0))
    found = (users[positions] == keys) if len(users) else np.zeros(len(keys), bool)
    attached = np.where(found[:, None], profiles[positions], 0.0).astype(np.float32)
    return {**arrays, profile_key: attached}


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class UserInterestTask(tf.keras.layers.Layer):
    """KL divergence (or cross-entropy) between a label distribution and a softmax head.

    Args:
        interest_loss: `kl` or `cross_entropy`.

    Call with `labels` `[batch_size, num_classes]` (rows sum to 1, or 0 for no history) and
    `logits` `[batch_size, num_classes]`; returns the scalar mean over the batch.
    """

    def __init__(self, interest_loss: str = "kl", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if interest_loss not in ("kl", "cross_entropy"):
            raise ValueError(f"interest_loss={interest_loss!r}: expected kl or cross_entropy")
        self.interest_loss = interest_loss

    def call(
        self, labels: tf.Tensor, logits: tf.Tensor, sample_weight: tf.Tensor | None = None
    ) -> tf.Tensor:
        labels = tf.cast(labels, tf.float32)
        log_predictions = tf.nn.log_softmax(logits, axis=-1)
        per_example = -tf.reduce_sum(labels * log_predictions, axis=-1)
        if self.interest_loss == "kl":
            entropy = -tf.reduce_sum(tf.math.multiply_no_nan(tf.math.log(labels), labels), -1)
            per_example -= entropy
        if sample_weight is not None:
            per_example *= tf.reshape(tf.cast(sample_weight, tf.float32), [-1])
        return tf.reduce_mean(per_example)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["interest_loss"] = self.interest_loss
        return config
