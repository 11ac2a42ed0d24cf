"""The interest task scored against held-out profiles, its popularity baseline, and a run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.experiments import ExperimentConfig, run_experiment
from tfrs_mtl.experiments.experiment_data import ExperimentData, fit_interest_profiles
from tfrs_mtl.experiments.interest_evaluation import (
    interest_metrics,
    popularity_interest_metrics,
)
from tfrs_mtl.serving import IndexConfig


def _shop() -> ExperimentData:
    """Users a, b; a clicks class 0 then 1 in training and class 1 in test; b clicks class 0
    in training and has no test click; c has a test click only (class 2)."""
    frame = pd.DataFrame({"click": np.array([1, 1, 1, 0, 1, 1], np.float32)})
    return ExperimentData(
        frame=frame,
        user_ids=np.array(["a", "b", "c"], dtype=object),
        item_ids=np.array(["x", "y", "z"], dtype=object),
        user_index=np.array([0, 0, 1, 1, 0, 2]),
        item_index=np.array([0, 1, 0, 2, 1, 2]),
        positive_key="click",
        rating_key=None,
        display_key=None,
        data_dir=None,
        has_tfds_keys=False,
        item_key="item_id",
        interest_key="user_category_profile",
        interest_classes=np.array(["c0", "c1", "c2"], dtype=object),
        interest_codes=np.array([0, 1, 0, 2, 1, 2]),
    )


TRAIN, TEST = np.array([0, 1, 2]), np.array([3, 4, 5])


def test_kl_against_the_held_out_and_the_training_profile() -> None:
    data = _shop()
    fit_interest_profiles(data, TRAIN)
    predicted = np.log(np.array([[0.25, 0.5, 0.25], [1 / 3] * 3, [0.5, 0.25, 0.25]]))
    metrics = interest_metrics(data, TEST, np.array([0, 1, 2]), predicted)
    # Held out: a -> class 1 (q = 0.5), c -> class 2 (q = 0.25); b has no test click.
    assert metrics["kl"] == pytest.approx((np.log(2) + np.log(4)) / 2)
    # Training profile of a: (0.5, 0.5, 0); c has none, so a alone is scored.
    expected = 0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.5)
    assert metrics["training_profile_kl"] == pytest.approx(expected)


def test_popularity_predicts_the_smoothed_training_distribution() -> None:
    data = _shop()
    fit_interest_profiles(data, TRAIN)
    # Training clicks: classes 0, 1, 0 -> counts (2, 1, 0) + 1 = (3, 2, 1) over 6.
    metrics = popularity_interest_metrics(data, TRAIN, TEST)
    assert metrics["kl"] == pytest.approx((np.log(3) + np.log(6)) / 2)


def test_a_run_trains_the_interest_task_and_reports_it() -> None:
    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        tasks=("retrieval", "interest"),
        baselines=("popularity",),
        epochs=3,
        synthetic_num_users=300,
        synthetic_num_items=100,
        synthetic_num_events=4000,
        index=IndexConfig(kind="brute_force"),
    )
    result = run_experiment(config, None, progress=False)
    losses = result.history["interest/loss"]
    assert losses[-1] < losses[0]
    for key in ("interest/kl", "interest/training_profile_kl", "baselines/popularity/interest/kl"):
        assert np.isfinite(result.metrics[key]) and result.metrics[key] > 0
    assert result.interest_classes.tolist() == sorted(set(result.catalogue["category"]))
