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


def test_ease_weights_match_the_double_precision_inverse_and_work_in_place() -> None:
    """The float32 Cholesky inverse agrees with numpy's float64 inverse, and holds at most
    the Gram matrix's copy beyond its input."""
    import tracemalloc

    from tfrs_mtl._ease import binary_gram, ease_weights

    rng = np.random.default_rng(0)
    size = 1_500  # not a multiple of the mirrored block
    users, items = rng.integers(0, 3_000, 60_000), rng.zipf(1.3, 60_000) % size
    gram = binary_gram(users, items, size)
    assert gram.dtype == np.float32 and gram.flags.c_contiguous
    for l2 in (1.0, 200.0):
        exact = gram.astype(np.float64) + l2 * np.eye(size)
        precision = np.linalg.inv(exact)
        expected = precision / -np.diag(precision)[None, :]
        np.fill_diagonal(expected, 0.0)
        found = ease_weights(gram, l2)
        assert found.dtype == np.float32 and found.flags.c_contiguous
        np.testing.assert_allclose(found, expected, atol=1e-4 * np.abs(expected).max())
    tracemalloc.start()
    ease_weights(gram, 200.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.6 * gram.nbytes


def test_ease_weights_name_a_matrix_that_is_not_positive_definite() -> None:
    from tfrs_mtl._ease import ease_weights

    gram = -np.eye(4, dtype=np.float32) * 10
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        ease_weights(gram, 1.0)
