"""`SplitConfig`: validated, round-trips through dicts, and drives `split_from_config`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.config import ConfigError
from tfrs_mtl.data.split_config import SplitConfig, split_from_config
from tfrs_mtl.data.splits import kfold


def test_round_trip() -> None:
    config = SplitConfig(method="kfold", num_folds=4, fold_index=3, seed=7)
    assert SplitConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"method": "shuffle"}, "method: expected one of"),
        ({"train_fraction": 1.5}, "train_fraction=1.5 is not in"),
        ({"num_folds": 3, "fold_index": 3}, r"fold_index=3 is not in \[0, num_folds=3\)"),
        ({"canonical_fold": "u9"}, "canonical_fold='u9' is not one of"),
    ],
)
def test_invalid_values_are_named(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SplitConfig.from_dict(values)


def test_split_from_config_dispatches() -> None:
    frame = pd.DataFrame({"user_id": list("aabbc"), "timestamp": np.arange(5, dtype=np.int64)})
    parts = split_from_config(frame, SplitConfig(method="kfold", num_folds=5, fold_index=2))
    assert parts.test.index.tolist() == kfold(frame, 5, 42)[2].test.index.tolist()
    last = split_from_config(frame, SplitConfig(method="leave_last_n"))
    assert last.test.index.tolist() == [1, 3]
