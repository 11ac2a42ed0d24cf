"""EASE: closed form on a hand-sized matrix, and λ selection."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.evaluation.baselines.ease import EaseBaseline, select_ease


def test_closed_form_hand_computed() -> None:
    # X = [[1, 1], [1, 0]]: G = [[2, 1], [1, 1]]; λ = 1: G + I = [[3, 1], [1, 2]], det 5,
    # P = [[0.4, -0.2], [-0.2, 0.6]]. B_01 = -P_01 / P_11 = 1/3, B_10 = -P_10 / P_00 = 1/2.
    model = EaseBaseline.fit(([0, 0, 1], [0, 1, 0]), num_users=2, num_items=2, l2=1.0)
    np.testing.assert_allclose(model.weights, [[0.0, 1 / 3], [0.5, 0.0]], rtol=1e-6)
    # Scores X_u B: user 0 [1, 1] -> [1/2, 1/3]; user 1 [1, 0] -> [0, 1/3].
    np.testing.assert_allclose(
        model.score(np.array([0, 1])), [[0.5, 1 / 3], [0.0, 1 / 3]], rtol=1e-6
    )


def test_l2_must_be_positive() -> None:
    with pytest.raises(ValueError, match="l2 must be positive, got 0"):
        EaseBaseline.fit(([0], [0]), num_users=1, num_items=1, l2=0)


def test_select_picks_the_best_validation_l2_and_refits_on_all_pairs() -> None:
    rng = np.random.default_rng(3)
    users, items = rng.integers(0, 40, 600), rng.integers(0, 25, 600)
    selection = select_ease((users, items), num_users=40, num_items=25, l2_grid=(1.0, 1000.0))
    assert set(selection.validation_scores) == {1.0, 1000.0}
    assert selection.best_l2 == max(
        selection.validation_scores, key=selection.validation_scores.__getitem__
    )
    refit = EaseBaseline.fit((users, items), num_users=40, num_items=25, l2=selection.best_l2)
    np.testing.assert_allclose(selection.model.weights, refit.weights)
