"""Attribute-task metrics: multi-class (accuracy, macro-F1) and multi-label (micro/macro-F1,
macro AUC); interest tasks: the KL divergence between class distributions."""

from __future__ import annotations

import numpy as np

from tfrs_mtl.evaluation.pointwise_metrics import binary_auc


def _class_predictions(labels: object, predictions: object) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).reshape(-1).astype(np.int64)
    p = np.asarray(predictions)
    # Scores [num_examples, num_classes] become their argmax class.
    p = p.argmax(axis=1) if p.ndim == 2 else p.reshape(-1)
    p = p.astype(np.int64)
    if y.shape != p.shape:
        raise ValueError(f"labels have {y.size} entries but predictions have {p.size}")
    if y.size == 0:
        raise ValueError("no examples to evaluate")
    return y, p


def _f1(
    true_positive: np.ndarray, false_positive: np.ndarray, false_negative: np.ndarray
) -> np.ndarray:
    denominator = 2 * true_positive + false_positive + false_negative
    # F1 of a class with no true, no predicted examples is 0 (sklearn's zero_division=0).
    return np.divide(
        2.0 * true_positive,
        denominator,
        out=np.zeros(np.shape(true_positive), dtype=np.float64),
        where=denominator > 0,
    )


def multiclass_accuracy(labels: object, predictions: object) -> float:
    """Share of correct classes; `predictions` are class ids `[n]` or scores `[n, num_classes]`."""
    y, p = _class_predictions(labels, predictions)
    return float(np.mean(y == p))


def macro_f1(labels: object, predictions: object) -> float:
    """Unweighted mean of per-class F1 over the classes present in labels or predictions."""
    y, p = _class_predictions(labels, predictions)
    classes, encoded = np.unique(np.concatenate([y, p]), return_inverse=True)
    y_code, p_code = encoded[: y.size], encoded[y.size :]
    confusion = np.zeros((classes.size, classes.size), dtype=np.int64)
    np.add.at(confusion, (y_code, p_code), 1)
    true_positive = np.diag(confusion)
    false_positive = confusion.sum(axis=0) - true_positive
    false_negative = confusion.sum(axis=1) - true_positive
    return float(_f1(true_positive, false_positive, false_negative).mean())


def _label_matrix(name: str, values: object) -> np.ndarray:
    matrix = np.asarray(values)
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be [num_examples, num_labels], got shape {matrix.shape}")
    return matrix


def multilabel_f1(labels: object, predictions: object, threshold: float = 0.5) -> dict[str, float]:
    """Micro- and macro-averaged F1 of multi-label predictions.

    Args:
        labels: `[num_examples, num_labels]` 0/1.
        predictions: `[num_examples, num_labels]` probabilities (positive when > `threshold`)
            or booleans.
        threshold: decision threshold for probabilities.

    Returns:
        `{"micro_f1": ..., "macro_f1": ...}`; macro averages over every label.
    """
    y = _label_matrix("labels", labels).astype(bool)
    p = _label_matrix("predictions", predictions)
    if y.shape != p.shape:
        raise ValueError(f"labels {y.shape} and predictions {p.shape} differ in shape")
    predicted = p if p.dtype == bool else p > threshold
    true_positive = (y & predicted).sum(axis=0)
    false_positive = (~y & predicted).sum(axis=0)
    false_negative = (y & ~predicted).sum(axis=0)
    micro = _f1(true_positive.sum(), false_positive.sum(), false_negative.sum())
    macro = _f1(true_positive, false_positive, false_negative).mean()
    return {"micro_f1": float(micro), "macro_f1": float(macro)}


def multilabel_auc(labels: object, scores: object) -> float:
    """Macro AUC over the labels that have both positive and negative examples.

    Raises:
        ValueError: when no label has both classes.
    """
    y = _label_matrix("labels", labels)
    s = _label_matrix("scores", scores)
    if y.shape != s.shape:
        raise ValueError(f"labels {y.shape} and scores {s.shape} differ in shape")
    positives = (y > 0).sum(axis=0)
    usable = np.flatnonzero((positives > 0) & (positives < y.shape[0]))
    if usable.size == 0:
        raise ValueError("no label has both positive and negative examples")
    return float(np.mean([binary_auc(y[:, label], s[:, label]) for label in usable]))


def mean_kl_divergence(targets: object, log_predictions: object) -> float:
    """Mean over rows of KL(target || prediction), in nats (`0 log 0 = 0`).

    Args:
        targets: `[num_examples, num_classes]` distributions (rows sum to 1).
        log_predictions: `[num_examples, num_classes]` log-probabilities (e.g. a
            log-softmax).
    """
    p = np.asarray(targets, dtype=np.float64)
    log_q = np.asarray(log_predictions, dtype=np.float64)
    if p.ndim != 2 or p.shape != log_q.shape:
        raise ValueError(
            f"targets {list(p.shape)} and log_predictions {list(log_q.shape)} must be the same "
            "[num_examples, num_classes]"
        )
    if not len(p):
        raise ValueError("no examples to evaluate")
    log_p = np.log(np.where(p > 0, p, 1.0))
    return float(np.mean(np.sum(np.where(p > 0, p * (log_p - log_q), 0.0), axis=1)))
