"""Scores a user-interest prediction against the users' held-out class distributions.

The interest task trains on each user's profile over their TRAINING positives
(`experiment_data.fit_interest_profiles`). On the test split it is scored per test user:

* `kl`: KL(held-out profile || predicted), the held-out profile being the class distribution
  of the user's TEST positives: does the prediction anticipate what the user goes on to view?
* `top3_recall`: the share of the user's held-out class mass that falls in the prediction's
  three most likely classes (1: every test positive is of a class predicted top 3).
* `training_profile_kl`: KL(training profile || predicted) for the same users (those with a
  training profile): how closely the head fits its own label.

`kl` and `top3_recall` are means over users (`kl` in nats). Two baselines are scored the same
way in the same run:

* popularity: every user gets the class distribution of all training positives, add-one
  smoothed so that no class is impossible;
* training profile: every user gets their own training profile, shrunk towards that global
  distribution by a prior of `m` pseudo-positives, `(n p + m g) / (n + m)` for a user with `n`
  training positives. `m` is chosen on the training rows alone: a seeded fifth of them is
  held out, and the `m` whose shrunk profiles of the other four fifths best anticipate it
  (lowest `kl`) is kept. This is what a lookup of the user's past gives: the head is worth
  its keep where it beats it.
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
    metrics = {
        "kl": mean_kl_divergence(held_out[scored], log_predictions[scored]),
        "top3_recall": top_k_class_recall(held_out[scored], log_predictions[scored], 3),
    }
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
    users = np.unique(data.user_index[test_positions])
    log_global = np.log(global_distribution(data, train_positions))
    return interest_metrics(
        data, test_positions, users, np.broadcast_to(log_global, (len(users), len(log_global)))
    )


#: The prior strengths `m` the training-profile baseline chooses from.
PRIOR_STRENGTHS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


def training_profile_interest_metrics(
    data: ExperimentData,
    train_positions: np.ndarray,
    test_positions: np.ndarray,
    seed: int = 0,
) -> dict[str, float]:
    """`interest_metrics` of predicting every test user their own shrunk training profile
    (module docstring), plus `prior_strength`, the chosen `m`."""
    rng = np.random.default_rng(seed)
    carved = rng.random(len(train_positions)) < 0.2
    fit, held = train_positions[~carved], train_positions[carved]
    held_profiles = user_profiles(data, held)
    scored = held_profiles.sum(axis=1) > 0
    best = min(
        PRIOR_STRENGTHS,
        key=lambda m: mean_kl_divergence(
            held_profiles[scored], np.log(shrunk_profiles(data, fit, m))[scored]
        ),
    )
    users = np.unique(data.user_index[test_positions])
    predicted = np.log(shrunk_profiles(data, train_positions, best))[users]
    metrics = interest_metrics(data, test_positions, users, predicted)
    return {**metrics, "prior_strength": float(best)} if metrics else {}


def global_distribution(data: ExperimentData, positions: np.ndarray) -> np.ndarray:
    """`[num_classes]` the class distribution of the positives among `positions`, add-one
    smoothed."""
    assert data.interest_codes is not None and data.interest_classes is not None
    codes = data.interest_codes[data.positives(positions)].reshape(-1)
    counts = np.bincount(codes[codes >= 0], minlength=len(data.interest_classes)) + 1.0
    return counts / counts.sum()


def shrunk_profiles(data: ExperimentData, positions: np.ndarray, prior: float) -> np.ndarray:
    """`[num_users, num_classes]` each user's profile over the positives among `positions`,
    shrunk towards their `global_distribution` by `prior` pseudo-positives (the global
    distribution for a user without any)."""
    counts = np.bincount(data.user_index[data.positives(positions)], minlength=data.num_users)
    weight = counts[:, None].astype(np.float64)
    return (
        weight * user_profiles(data, positions) + prior * global_distribution(data, positions)
    ) / (weight + prior)


def top_k_class_recall(targets: np.ndarray, log_predictions: np.ndarray, k: int) -> float:
    """Mean over rows of the target mass on the prediction's `k` most likely classes."""
    top = np.argsort(-np.asarray(log_predictions), axis=1, kind="stable")[:, :k]
    return float(np.mean(np.take_along_axis(np.asarray(targets), top, axis=1).sum(axis=1)))
