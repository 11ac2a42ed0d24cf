"""cross_validate: mean and standard deviation of each metric across folds."""

from __future__ import annotations

import math

import pytest

from tfrs_mtl.evaluation.cross_validation import cross_validate


def _fake_train_and_evaluate(fold: float) -> dict[str, float]:
    return {"rating/rmse": fold, "retrieval/recall@10": 2 * fold}


def test_mean_and_std_over_folds() -> None:
    summary = cross_validate(_fake_train_and_evaluate, [1.0, 2.0, 3.0])
    # rmse: mean 2, population std sqrt(((1-2)^2 + 0 + (3-2)^2) / 3) = sqrt(2/3).
    assert summary["rating/rmse"] == pytest.approx((2.0, math.sqrt(2 / 3)))
    assert summary["retrieval/recall@10"] == pytest.approx((4.0, 2 * math.sqrt(2 / 3)))
    # Sample std (ddof=1): sqrt(2 / 2) = 1.
    assert cross_validate(_fake_train_and_evaluate, [1.0, 2.0, 3.0], ddof=1)[
        "rating/rmse"
    ] == pytest.approx((2.0, 1.0))


def test_folds_must_agree_on_metrics() -> None:
    with pytest.raises(ValueError, match="fold 1 returned metrics"):
        cross_validate(lambda fold: {"m": 1.0} if fold == 0 else {"n": 1.0}, [0, 1])
    with pytest.raises(ValueError, match="at least one fold"):
        cross_validate(_fake_train_and_evaluate, [])
