"""Scores a user-interest prediction against the users' held-out class distributions.

The interest task trains on each user's profile over their TRAINING positives
(`experiment_data.fit_interest_profiles`). On the test split it is scored per test user:

* `kl`: KL(held-out profile || predicted), the held-out profile being the class distribution
  of the user's TEST positives: does the prediction anticipate what the user goes on to view?
* `training_profile_kl`: KL(training profile || predicted) for the same users (those with a
  training profile): how closely the head fits its own label.

Both are means over users, in nats. The popularity baseline predicts every user the class
distribution of all training positives, add-one smoothed so that no class is impossible.
"""

from __future__ import annotations

import numpy as np

from tfrs_mtl.evaluation import mean_kl_divergence
from tfrs_mtl.experiments.experiment_data import ExperimentData, user_profiles


def interest_metrics(
    data: ExperimentData,
    test_positions: np.ndarray,
    users: np.ndarray,
    log_predictions: np.ndarray,
) -> dict[str, float]:
    """`kl` and `training_profile_kl` (see the module docstring) of a prediction.

    Args:
        data: the experiment data, its interest profiles fitted on the training rows.
        test_positions: test rows of `data.frame`.
        users: `[num_predicted]` user indices.
        log_predictions: `[num_predicted, num_classes]` each user's predicted log-probabilities.

    Returns:
        Empty when no predicted user has a held-out profile.
    """
    assert data.interest_profiles is not None
    held_out = user_profiles(data, test_positions)[users]
    scored = held_out.sum(axis=1) > 0
    if not scored.any():
        return {}
    metrics = {"kl": mean_kl_divergence(held_out[scored], log_predictions[scored])}
    trained = data.interest_profiles[users]
    fitted = scored & (trained.sum(axis=1) > 0)
    if fitted.any():
        metrics["training_profile_kl"] = mean_kl_divergence(
            trained[fitted], log_predictions[fitted]
        )
    return metrics


def popularity_interest_metrics(
    data: ExperimentData, train_positions: np.ndarray, test_positions: np.ndarray
) -> dict[str, float]:
    """`interest_metrics` of predicting every test user the smoothed global distribution."""
    assert data.interest_codes is not None and data.interest_classes is not None
    codes = data.interest_codes[data.positives(train_positions)].reshape(-1)
    num_classes = len(data.interest_classes)
    counts = np.bincount(codes[codes >= 0], minlength=num_classes) + 1.0
    users = np.unique(data.user_index[test_positions])
    log_global = np.log(counts / counts.sum())
    return interest_metrics(
        data, test_positions, users, np.broadcast_to(log_global, (len(users), num_classes))
    )
