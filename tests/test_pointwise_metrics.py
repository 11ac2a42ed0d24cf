"""Rating and binary metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tfrs_mtl.evaluation.pointwise_metrics import (
    average_ranks,
    binary_accuracy,
    binary_auc,
    log_loss,
    mae,
    rmse,
)


def test_rmse_and_mae() -> None:
    # Errors 0, 0, 2: RMSE = sqrt(4/3), MAE = 2/3.
    assert rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(math.sqrt(4 / 3))
    assert mae([1, 2, 3], [1, 2, 5]) == pytest.approx(2 / 3)


def test_average_ranks_share_ties() -> None:
    # Sorted: 1 (rank 1), 2, 2 (ranks 2, 3 -> 2.5), 5 (rank 4).
    assert average_ranks(np.array([2.0, 5.0, 1.0, 2.0])).tolist() == [2.5, 4.0, 1.0, 2.5]


def test_auc_counts_a_tied_pair_as_half() -> None:
    # Positives score 0.8, 0.3; negatives 0.8, 0.1. Pairs: (0.8, 0.8) 1/2, (0.8, 0.1) 1,
    # (0.3, 0.8) 0, (0.3, 0.1) 1 -> 2.5 / 4.
    assert binary_auc([1, 0, 1, 0], [0.8, 0.8, 0.3, 0.1]) == pytest.approx(0.625)


def test_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="AUC needs both classes, got 2 positives and 0"):
        binary_auc([1, 1], [0.2, 0.4])


def test_log_loss_and_its_clipping() -> None:
    # -(ln 0.8 + ln 0.6) / 2.
    assert log_loss([1, 0], [0.8, 0.4]) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    # A confident wrong answer is clipped to 1e-7 instead of infinite.
    assert log_loss([1], [0.0]) == pytest.approx(-math.log(1e-7))


def test_binary_accuracy_and_label_check() -> None:
    # Predicted [1, 0, 0] (0.5 is not above the threshold) against [1, 0, 1] -> 2/3.
    assert binary_accuracy([1, 0, 1], [0.6, 0.5, 0.4]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"binary labels must be 0 or 1, got 2\.0"):
        binary_accuracy([2], [0.5])
    with pytest.raises(ValueError, match="labels have 2 entries but predictions have 1"):
        rmse([1, 2], [1])
