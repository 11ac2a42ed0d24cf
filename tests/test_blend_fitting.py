"""fit_blend: the weights that rank held-out interactions best, never worse than stage 1."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.experiments.blend_fitting import HeldOut, fit_blend
from tfrs_mtl.experiments.served_evaluation import ServedLists

# Two users, four candidates each (in stage 1's order); item 9 is an empty slot.
ITEMS = np.array([[0, 1, 2, 3], [4, 5, 6, -1]])


def candidates(rating: np.ndarray, click: np.ndarray | None = None) -> ServedLists:
    scores = {
        "retrieval": np.array([[4.0, 3.0, 2.0, 1.0], [3.0, 2.0, 1.0, np.nan]]),
        "rating": rating,
    }
    if click is not None:
        scores["click"] = click
    return ServedLists(np.array([0, 1]), ITEMS, scores)


def test_a_task_that_ranks_the_held_out_items_first_gets_weight() -> None:
    # Held out: item 2 for user 0, item 6 for user 1, which stage 1 ranks last.
    held_out = HeldOut(np.array([0, 1]), np.array([2, 6]), np.array([1.0, 1.0]))
    rating = np.array([[1.0, 2.0, 5.0, 3.0], [1.0, 2.0, 5.0, 0.0]])
    fit = fit_blend(candidates(rating), held_out, k=1)
    assert fit.stage_one_ndcg == 0.0
    assert fit.ndcg == 1.0
    assert fit.blend.get("rating", 0.0) > 0
    assert fit.num_users == 2


def test_nothing_beats_stage_one_so_stage_one_is_kept() -> None:
    held_out = HeldOut(np.array([0, 1]), np.array([0, 4]), np.array([1.0, 1.0]))
    rating = np.array([[1.0, 2.0, 5.0, 3.0], [1.0, 2.0, 5.0, 0.0]])
    fit = fit_blend(candidates(rating), held_out, k=1)
    assert fit.blend == {"retrieval": 1.0}
    assert fit.ndcg == fit.stage_one_ndcg == 1.0


def test_graded_gains_prefer_the_better_rated_item() -> None:
    # User 0 holds out items 0 (rated 1) and 2 (rated 5): at k=1, item 2 first is best.
    held_out = HeldOut(np.array([0, 0]), np.array([0, 2]), np.array([1.0, 5.0]))
    rating = np.array([[1.0, 2.0, 5.0, 3.0], [1.0, 2.0, 5.0, 0.0]])
    fit = fit_blend(candidates(rating), held_out, k=1)
    assert fit.stage_one_ndcg == pytest.approx(1 / 5)
    assert fit.ndcg == 1.0
    assert fit.num_users == 1  # user 1 holds nothing out


def test_probabilities_are_blended_as_log_probabilities() -> None:
    # Two tasks move one item each: a product of probabilities (log-sum) decides.
    held_out = HeldOut(np.array([0]), np.array([1]), np.array([1.0]))
    rating = np.zeros((2, 4))
    click = np.array([[0.5, 0.9, 0.01, 0.4], [0.5, 0.5, 0.5, 0.5]])
    fit = fit_blend(candidates(rating, click), held_out, ("click",), k=1)
    assert fit.blend.get("click", 0.0) > 0
    assert fit.ndcg == 1.0
