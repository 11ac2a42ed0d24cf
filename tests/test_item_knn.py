"""Item-kNN: shrunk cosine neighbours, sparse, the neighbourhood chosen on validation."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.evaluation.baselines import evaluate_baselines
from tfrs_mtl.evaluation.baselines.item_knn import (
    SHRINK,
    ItemKnnBaseline,
    knn_similarities,
    select_item_knn,
)
from tfrs_mtl.evaluation.interaction_sets import UserItemSets


def test_similarities_are_the_shrunk_cosine_of_co_consumption() -> None:
    # Users: 0 {0, 1}, 1 {0, 1, 2}, 2 {2}. Items 0 and 1 share 2 users of 2 each.
    sets = UserItemSets.from_pairs(
        np.array([0, 0, 1, 1, 1, 2]), np.array([0, 1, 0, 1, 2, 2]), num_users=3, num_items=3
    )
    similar = knn_similarities(sets, neighbours=5).toarray()
    assert similar[0, 1] == pytest.approx(2 / (np.sqrt(2 * 2) + SHRINK))
    assert similar[0, 2] == pytest.approx(1 / (np.sqrt(2 * 2) + SHRINK))
    np.testing.assert_array_equal(np.diag(similar), 0.0)
    np.testing.assert_allclose(similar, similar.T)
    # One neighbour: each item keeps its single most similar one.
    (kept,) = [knn_similarities(sets, neighbours=1).toarray()]
    assert (kept > 0).sum(axis=1).tolist() == [1, 1, 1]
    assert kept[0, 1] > 0 and kept[0, 2] == 0


def test_it_recommends_what_co_consumers_took_and_masks_nothing_itself() -> None:
    # Two communities of 30 users: items 0-4 and items 5-9; user 0 has seen items 0-3 only.
    rng = np.random.default_rng(0)
    users, items = [], []
    for user in range(60):
        pool = np.arange(5) if user < 30 else np.arange(5, 10)
        taken = pool if user else pool[:4]
        taken = taken if user == 0 else rng.choice(pool, 4, replace=False)
        users += [user] * len(taken)
        items += list(taken)
    model = ItemKnnBaseline.fit(
        (np.array(users), np.array(items)), num_users=60, num_items=10, neighbours=3
    )
    scores = model.score(np.array([0]))[0]
    unseen = [item for item in range(10) if item not in (0, 1, 2, 3)]
    assert max(unseen, key=lambda item: scores[item]) == 4


def test_selection_refits_with_a_grid_size_and_the_suite_reports_it() -> None:
    rng = np.random.default_rng(1)
    users = rng.integers(0, 40, size=600)
    items = (users % 4) * 5 + rng.integers(0, 5, size=600)  # 4 taste groups of 5 items
    model = select_item_knn(
        (users, items), num_users=40, num_items=20, neighbours_grid=(2, 8), seed=0
    )
    assert model.neighbours in (2, 8)
    test = (np.arange(40), (np.arange(40) % 4) * 5)
    results = evaluate_baselines(
        (users, items), test, num_users=40, num_items=20, names=("popularity", "item_knn")
    )
    assert set(results.metrics) == {"popularity", "item_knn"}
    assert 0 <= results.metrics["item_knn"]["retrieval"]["recall@10"] <= 1
    with pytest.raises(ValueError, match="neighbours=0 must be >= 1"):
        ItemKnnBaseline.fit((users, items), num_users=40, num_items=20, neighbours=0)
