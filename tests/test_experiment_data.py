"""Experiment data: index maps, positives, splits by position, and the per-user query row."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.data.split_config import SplitConfig
from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import (
    ExperimentData,
    feature_arrays,
    fit_interest_profiles,
    fit_user_histories,
    load_experiment_data,
    split_experiment_data,
    training_feature_arrays,
    user_profiles,
)
from tfrs_mtl.experiments.model_evaluation import user_table
from tfrs_mtl.features.user_history import HISTORY_FEATURE


def _data(positive_key: str | None = "click") -> ExperimentData:
    frame = pd.DataFrame(
        {
            "user_id": ["a", "b", "a", "a", "b"],
            "item_id": ["x", "x", "y", "z", "z"],
            "click": np.array([1, 1, 0, 1, 1], np.float32),
            "timestamp": np.array([5, 1, 9, 7, 3], np.int64),
            "user_gender": [True, False, True, False, False],
        },
        index=[10, 11, 12, 13, 14],
    )
    return ExperimentData(
        frame=frame,
        user_ids=np.array(["a", "b"], dtype=object),
        item_ids=np.array(["x", "y", "z"], dtype=object),
        user_index=np.array([0, 1, 0, 0, 1]),
        item_index=np.array([0, 0, 1, 2, 2]),
        positive_key=positive_key,
        rating_key=None,
        display_key=None,
        data_dir=None,
        has_tfds_keys=False,
    )


def test_pairs_keep_only_positives() -> None:
    users, items = _data().pairs(np.array([0, 2, 3]))
    assert users.tolist() == [0, 0] and items.tolist() == [0, 2]  # row 2 is not clicked
    users, items = _data(positive_key=None).pairs(np.array([0, 2, 3]))
    assert items.tolist() == [0, 1, 2]


def test_rows_maps_a_split_back_to_positions() -> None:
    data = _data()
    assert data.rows(data.frame.loc[[13, 10]]).tolist() == [3, 0]


def test_user_row_is_the_latest_training_row() -> None:
    class Model:
        query_feature_names = ("user_id", "timestamp", "user_gender")

    data = _data()
    # a's training rows have timestamps 5 (row 0) and 7 (row 3); row 2 (t=9) is a test row.
    # b has no training row: its latest row, row 4 (t=3), is taken.
    table = user_table(data, Model(), np.array([0, 3]))  # type: ignore[arg-type]
    assert table["user_id"].tolist() == ["a", "b"]
    assert table["timestamp"].tolist() == [7, 3]
    assert table["user_gender"].tolist() == [False, False]


def test_synthetic_split_sizes_and_sample(tmp_path) -> None:
    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        baselines=(),
        max_rows=1000,
        synthetic_num_users=200,
        synthetic_num_items=100,
        synthetic_num_events=3000,
        split=SplitConfig(method="random", train_fraction=0.75),
    )
    data = load_experiment_data(config)
    assert len(data.frame) == 1000
    assert data.num_users == len(set(data.frame["user_id"]))
    train, test = split_experiment_data(data, config.split)
    assert (len(train), len(test)) == (750, 250)
    assert not set(train) & set(test)
    assert data.item_ids[data.item_index].tolist() == data.frame["item_id"].tolist()


def test_canonical_split_needs_all_rows() -> None:
    with pytest.raises(Exception, match="max_rows"):
        ExperimentConfig(max_rows=10, split=SplitConfig(method="canonical"))


def _movielens_like() -> ExperimentData:
    frame = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b", "b", "a"],
            "movie_id": ["1", "2", "3", "2", "4", "4"],
            "user_rating": np.array([5, 4, 3, 2, 1, 5], np.float32),
        }
    )
    return ExperimentData(
        frame=frame,
        user_ids=np.array(["a", "b"], dtype=object),
        item_ids=np.array(["1", "2", "3", "4"], dtype=object),
        user_index=np.array([0, 0, 0, 1, 1, 0]),
        item_index=np.array([0, 1, 2, 1, 3, 3]),
        positive_key=None,
        rating_key="user_rating",
        display_key=None,
        data_dir=None,
        has_tfds_keys=False,
        item_key="movie_id",
        history_length=5,
    )


def test_user_history_is_built_from_training_rows_only() -> None:
    data = _movielens_like()
    train, test = np.array([0, 1, 2, 3]), np.array([4, 5])  # test items: b->4, a->4
    fit_user_histories(data, train)
    training = training_feature_arrays(data, train)[HISTORY_FEATURE]
    evaluation = feature_arrays(data, test)[HISTORY_FEATURE]
    # A training row never sees its own movie; evaluation rows see the full training history.
    assert training.tolist() == [[2, 3], [1, 3], [1, 2], [-1, -1]]
    assert evaluation.tolist() == [[2, -1, -1], [1, 2, 3]]
    assert 4 not in training and 4 not in evaluation  # no test item in any history


def test_user_table_serves_the_full_training_history() -> None:
    data = _movielens_like()
    fit_user_histories(data, np.array([0, 1, 2, 3]))
    model = SimpleNamespace(query_feature_names=("user_id", HISTORY_FEATURE))
    users = user_table(data, model, np.array([0, 1, 2, 3]))  # type: ignore[arg-type]
    assert users[HISTORY_FEATURE].tolist() == [[1, 2, 3], [2, -1, -1]]


def test_with_timestamps_a_served_history_lists_the_oldest_first() -> None:
    data = _movielens_like()
    times = np.array([30, 10, 20, 5, 1, 99], np.int64)
    timed = dataclasses.replace(data, frame=data.frame.assign(timestamp=times))
    train = np.array([0, 1, 2, 3, 4])
    fit_user_histories(timed, train)
    model = SimpleNamespace(query_feature_names=("user_id", HISTORY_FEATURE))
    users = user_table(timed, model, train)  # type: ignore[arg-type]
    assert users[HISTORY_FEATURE].tolist() == [[2, 3, 1], [4, 2, -1]]
    # A row without a time leaves the histories in row order.
    untimed = timed.frame.assign(timestamp=pd.array([30, 10, None, 5, 1, 99], dtype="Int64"))
    timed = dataclasses.replace(data, frame=untimed)
    fit_user_histories(timed, train)
    assert timed.histories is not None and timed.histories.by_time is None


@pytest.mark.slow
def test_movielens_split_histories_never_hold_a_test_item(ml100k_dir: str) -> None:
    config = ExperimentConfig(dataset="movielens-100k", data_dir=ml100k_dir)
    data = load_experiment_data(config)
    train, test = split_experiment_data(data, config.split)
    assert data.histories is not None
    test_items = set(
        zip(data.user_index[test], data.frame["movie_id"].to_numpy()[test], strict=True)
    )
    for user in range(data.num_users):
        history = {str(item) for item in data.histories.of_user(user)}
        assert not any((user, item) in test_items for item in history)
    assert len(data.histories.items) == len(train)


def test_interest_profiles_come_from_training_positives_only() -> None:
    # Items x, y, z are in the categories shoes, hats, bags (classes sorted: bags, hats, shoes).
    data = dataclasses.replace(
        _data(),
        interest_key="user_category_profile",
        interest_classes=np.array(["bags", "hats", "shoes"], dtype=object),
        interest_codes=np.array([2, 2, 1, 0, 0]),
    )
    train, test = np.array([0, 1, 2]), np.array([3, 4])  # row 2 (a, hats) is not clicked
    fit_interest_profiles(data, train)
    # Only a's and b's clicked training items (x: shoes): no hats, no bags from the test rows.
    assert data.interest_profiles.tolist() == [[0, 0, 1], [0, 0, 1]]
    assert training_feature_arrays(data, train)["user_category_profile"].tolist() == [
        [0, 0, 1], [0, 0, 1], [0, 0, 1]
    ]  # fmt: skip
    assert feature_arrays(data, test)["user_category_profile"].tolist() == [[0, 0, 1]] * 2
    assert user_profiles(data, test).tolist() == [[1, 0, 0], [1, 0, 0]]  # held out: bags


def test_split_refits_the_interest_profiles_on_its_training_rows() -> None:
    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        tasks=("retrieval", "interest"),
        baselines=(),
        synthetic_num_users=100,
        synthetic_num_items=60,
        synthetic_num_events=1500,
    )
    data = load_experiment_data(config)
    categories = sorted(set(data.frame["category"]))
    assert data.interest_classes.tolist() == categories
    train, _ = split_experiment_data(data, config.split)
    np.testing.assert_array_equal(data.interest_profiles, user_profiles(data, train))
    everything = user_profiles(data, np.arange(len(data.frame)))
    assert not np.allclose(data.interest_profiles, everything)
    assert load_experiment_data(config.replace(tasks=())).interest_key is None


def test_the_validation_carve_out_splits_only_training_rows(ml100k_dir) -> None:
    from tfrs_mtl.experiments.experiment_data import validation_carve_out

    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        baselines=(),
        synthetic_num_users=60,
        synthetic_num_items=30,
        synthetic_num_events=600,
    )
    data = load_experiment_data(config)
    train, test = split_experiment_data(data, config.split)
    fit, held = validation_carve_out(data, train, config.split, 0.25, seed=3)
    assert sorted(np.r_[fit, held]) == sorted(train)
    assert not set(held) & set(test)
    assert len(held) == pytest.approx(0.25 * len(train), rel=0.2)
    again = validation_carve_out(data, train, config.split, 0.25, seed=3)
    np.testing.assert_array_equal(again[1], held)
    # A split by time holds out the latest training rows, as the test rows are the latest.
    temporal = config.split.replace(method="temporal")
    data = load_experiment_data(
        ExperimentConfig(data_dir=str(ml100k_dir), max_rows=2_000, split=temporal, baselines=())
    )
    train, _ = split_experiment_data(data, temporal)
    fit, held = validation_carve_out(data, train, temporal, 0.25, seed=3)
    times = data.frame["timestamp"].to_numpy()
    assert times[fit].max() <= times[held].min()
    with pytest.raises(ValueError, match="not in"):
        validation_carve_out(data, train, temporal, 1.0, seed=3)


def test_the_blend_target_follows_the_labels_the_data_holds() -> None:
    from tfrs_mtl.experiments.experiment_data import resolved_blend_target, target_gains

    shop = ExperimentConfig(
        dataset="synthetic-ecommerce",
        baselines=(),
        synthetic_num_users=60,
        synthetic_num_items=30,
        synthetic_num_events=600,
    )
    data = load_experiment_data(shop)
    assert resolved_blend_target(shop, data) == "purchase"
    assert resolved_blend_target(shop.replace(blend_target="interactions"), data) is None
    assert resolved_blend_target(shop.replace(blend_target="cart"), data) == "cart"
    with pytest.raises(ValueError, match="blend_target='rating' is not a label"):
        resolved_blend_target(shop.replace(blend_target="rating"), data)
    rows = np.arange(len(data.frame))
    gains = target_gains(data, rows, "purchase")
    purchases = data.frame["purchase"].to_numpy()[data.positives(rows)]
    np.testing.assert_array_equal(gains, (purchases > 0).astype(float))
