"""Experiment data: index maps, positives, splits by position, and the per-user query row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.data.split_config import SplitConfig
from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import (
    ExperimentData,
    load_experiment_data,
    split_experiment_data,
)
from tfrs_mtl.experiments.model_evaluation import user_table


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
