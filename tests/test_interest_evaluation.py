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
    for key in (
        "interest/kl",
        "interest/training_profile_kl",
        "baselines/popularity/interest/kl",
        "baselines/training_profile/interest/kl",
    ):
        assert np.isfinite(result.metrics[key]) and result.metrics[key] > 0
    assert 0 < result.metrics["interest/top3_recall"] <= 1
    assert result.interest_classes.tolist() == sorted(set(result.catalogue["category"]))


def test_top3_recall_is_the_held_out_mass_on_the_three_likeliest_classes() -> None:
    from tfrs_mtl.experiments.interest_evaluation import top_k_class_recall

    targets = np.array([[0.5, 0.0, 0.25, 0.25], [0.0, 0.0, 0.0, 1.0]])
    predicted = np.log(np.array([[0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.2, 0.1]]))
    # Row 1: classes 0, 1, 2 hold 0.75 of its mass; row 2: none of class 3.
    assert top_k_class_recall(targets, predicted, 3) == pytest.approx(0.375)


def test_shrunk_profiles_move_from_the_user_towards_the_global_distribution() -> None:
    from tfrs_mtl.experiments.interest_evaluation import global_distribution, shrunk_profiles

    data = _shop()
    fit_interest_profiles(data, TRAIN)
    g = global_distribution(data, TRAIN)
    np.testing.assert_allclose(g, [3 / 6, 2 / 6, 1 / 6])
    # a: 2 positives, profile (0.5, 0.5, 0); prior 2 -> halfway to g. c: none -> g.
    shrunk = shrunk_profiles(data, TRAIN, 2.0)
    np.testing.assert_allclose(shrunk[0], (np.array([0.5, 0.5, 0]) + g) / 2)
    np.testing.assert_allclose(shrunk[2], g)
    np.testing.assert_allclose(shrunk.sum(axis=1), 1.0)


def test_the_training_profile_baseline_beats_the_global_one_where_users_keep_their_taste() -> None:
    from tfrs_mtl.experiments.interest_evaluation import training_profile_interest_metrics

    # 200 users, each loyal to one of 5 classes (90% of their positives), 20 rows each.
    rng = np.random.default_rng(0)
    num_users, rows, num_classes = 200, 20, 5
    users = np.repeat(np.arange(num_users), rows)
    taste = rng.integers(num_classes, size=num_users)
    loyal = rng.random(len(users)) < 0.9
    codes = np.where(loyal, taste[users], rng.integers(num_classes, size=len(users)))
    data = ExperimentData(
        frame=pd.DataFrame({"click": np.ones(len(users), np.float32)}),
        user_ids=np.arange(num_users).astype(str).astype(object),
        item_ids=np.arange(num_classes).astype(str).astype(object),
        user_index=users,
        item_index=codes,
        positive_key="click",
        rating_key=None,
        display_key=None,
        data_dir=None,
        has_tfds_keys=False,
        item_key="item_id",
        interest_key="user_category_profile",
        interest_classes=np.arange(num_classes).astype(str).astype(object),
        interest_codes=codes,
    )
    test = np.arange(len(users)) % rows >= 15
    train_positions, test_positions = np.flatnonzero(~test), np.flatnonzero(test)
    fit_interest_profiles(data, train_positions)
    own = training_profile_interest_metrics(data, train_positions, test_positions, seed=1)
    common = popularity_interest_metrics(data, train_positions, test_positions)
    assert own["kl"] < common["kl"] - 0.5
    assert own["top3_recall"] > common["top3_recall"] + 0.2
    assert own["prior_strength"] in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
