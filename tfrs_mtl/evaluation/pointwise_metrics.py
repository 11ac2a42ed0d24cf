"""Metrics of one prediction per example: ratings (RMSE, MAE) and binary behaviours
(AUC, log-loss, accuracy). Inputs are 1-D arrays `[num_examples]`."""

from __future__ import annotations

import numpy as np

# Same clipping as tf.keras' binary cross-entropy, so log-loss is finite for 0/1 predictions.
_EPSILON = 1e-7


def _pair(labels: object, predictions: object) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    p = np.asarray(predictions, dtype=np.float64).reshape(-1)
    if y.shape != p.shape:
        raise ValueError(f"labels have {y.size} entries but predictions have {p.size}")
    if y.size == 0:
        raise ValueError("no examples to evaluate")
    return y, p


def _binary_labels(labels: np.ndarray) -> np.ndarray:
    if not np.isin(labels, (0.0, 1.0)).all():
        bad = labels[~np.isin(labels, (0.0, 1.0))][0]
        raise ValueError(f"binary labels must be 0 or 1, got {bad}")
    return labels.astype(bool)


def rmse(labels: object, predictions: object) -> float:
    """Root mean squared error."""
    y, p = _pair(labels, predictions)
    return float(np.sqrt(np.mean((y - p) ** 2)))


def mae(labels: object, predictions: object) -> float:
    """Mean absolute error."""
    y, p = _pair(labels, predictions)
    return float(np.mean(np.abs(y - p)))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values` ascending, tied values sharing their average rank."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # Start of each run of equal values, and its length.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    lengths = np.diff(np.r_[starts, values.size])
    run_average = starts + (lengths + 1) / 2.0
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(run_average, lengths)
    return ranks


def binary_auc(labels: object, scores: object) -> float:
    """Exact ROC AUC by ranks (Mann-Whitney U); a tied positive/negative pair counts 1/2.

    Raises:
        ValueError: when only one class is present (AUC is undefined).
    """
    y, s = _pair(labels, scores)
    positive = _binary_labels(y)
    num_positive = int(positive.sum())
    num_negative = positive.size - num_positive
    if num_positive == 0 or num_negative == 0:
        raise ValueError(
            f"AUC needs both classes, got {num_positive} positives and {num_negative} negatives"
        )
    rank_sum = average_ranks(s)[positive].sum()
    return float((rank_sum - num_positive * (num_positive + 1) / 2) / (num_positive * num_negative))


def log_loss(labels: object, probabilities: object) -> float:
    """Mean binary cross-entropy, probabilities clipped to [1e-7, 1 - 1e-7]."""
    y, p = _pair(labels, probabilities)
    _binary_labels(y)
    p = np.clip(p, _EPSILON, 1.0 - _EPSILON)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def binary_accuracy(labels: object, probabilities: object, threshold: float = 0.5) -> float:
    """Share of examples where `probability > threshold` equals the label."""
    y, p = _pair(labels, probabilities)
    return float(np.mean(_binary_labels(y) == (p > threshold)))
