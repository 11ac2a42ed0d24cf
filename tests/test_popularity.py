"""PopularityBaseline: counts as scores, global mean as rating."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.evaluation.baselines.popularity import PopularityBaseline


def test_scores_are_training_counts_for_every_user() -> None:
    # Item 1 twice, item 0 once, item 2 never; ratings mean (4 + 2 + 3) / 3 = 3.
    model = PopularityBaseline.fit([1, 0, 1], num_items=3, ratings=[4.0, 2.0, 3.0])
    assert model.score(np.array([0, 7])).tolist() == [[1.0, 2.0, 0.0], [1.0, 2.0, 0.0]]
    assert model.predict_rating(np.array([0, 1]), np.array([2, 0])).tolist() == [3.0, 3.0]


def test_item_range_is_checked() -> None:
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        PopularityBaseline.fit([2], num_items=2)
