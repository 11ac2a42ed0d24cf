"""Multi-class and multi-label metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.evaluation.classification_metrics import (
    macro_f1,
    mean_kl_divergence,
    multiclass_accuracy,
    multilabel_auc,
    multilabel_f1,
)

LABELS = [0, 0, 1, 2]
PREDICTED = [0, 1, 1, 1]


def test_multiclass_accuracy_from_ids_and_scores() -> None:
    # 2 of 4 correct; scores [n, classes] are reduced by argmax.
    assert multiclass_accuracy(LABELS, PREDICTED) == pytest.approx(0.5)
    scores = np.eye(3)[PREDICTED]
    assert multiclass_accuracy(LABELS, scores) == pytest.approx(0.5)


def test_macro_f1() -> None:
    # class 0: TP 1, FP 0, FN 1 -> 2/3; class 1: TP 1, FP 2, FN 0 -> 2/4;
    # class 2: TP 0, FN 1 -> 0. Mean = (2/3 + 1/2 + 0) / 3.
    assert macro_f1(LABELS, PREDICTED) == pytest.approx((2 / 3 + 1 / 2) / 3)


def test_multilabel_f1() -> None:
    labels = [[1, 0], [1, 1], [0, 0]]
    probabilities = [[0.9, 0.2], [0.4, 0.7], [0.6, 0.1]]  # -> [[1, 0], [0, 1], [1, 0]]
    # label 0: TP 1, FN 1, FP 1 -> 2/4; label 1: TP 1 -> 1. Micro: TP 2, FP 1, FN 1 -> 4/6.
    f1 = multilabel_f1(labels, probabilities)
    assert f1["macro_f1"] == pytest.approx(0.75)
    assert f1["micro_f1"] == pytest.approx(4 / 6)


def test_multilabel_auc_skips_single_class_labels() -> None:
    labels = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 1]])
    # label 0: positives 0.9, 0.5 above the negative 0.1 -> 1; label 1: the positive 0.2 is
    # below both negatives -> 0; label 2 has no negative and is skipped. Mean 0.5.
    scores = np.array([[0.9, 0.3, 0.5], [0.1, 0.6, 0.5], [0.5, 0.2, 0.5]])
    assert multilabel_auc(labels, scores) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no label has both"):
        multilabel_auc(labels[:, 2:], scores[:, 2:])


def test_mean_kl_divergence_skips_zero_targets() -> None:
    targets = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    predicted = np.log(np.array([[0.25, 0.25, 0.5], [0.5, 0.25, 0.25]]))
    # Row 1: 0.5 log 2 + 0.5 log 2 = log 2; row 2: log 2 (0 log 0 counts 0).
    assert mean_kl_divergence(targets, predicted) == pytest.approx(np.log(2))
    assert mean_kl_divergence(targets, np.log(targets + (targets == 0))) == pytest.approx(0.0)
    with pytest.raises(ValueError, match=r"targets \[2, 3\] and log_predictions \[2, 2\]"):
        mean_kl_divergence(targets, predicted[:, :2])
