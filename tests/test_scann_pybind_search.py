"""`search_pybind` on hand-made ScaNN results: the C++ call it makes, the NaN check, the ids.

A stand-in for ScaNN's `ScannNumpy` returns fixed arrays, so every branch is exercised
without ScaNN (the real searcher: tests/test_scann_fast_path.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.serving.scann_pybind_search import search_pybind


class _Native:
    """`ScannNumpy.search_batched`'s signature; records the arguments it was called with."""

    def __init__(self, indices: np.ndarray, distances: np.ndarray) -> None:
        self.result = (indices, distances)
        self.calls: list[tuple] = []

    def search_batched(self, queries, final_nn, pre_nn, leaves, parallel, batch_size):
        self.calls.append((queries.shape, final_nn, pre_nn, leaves, parallel, batch_size))
        return self.result


class _Searcher:
    """`scann_ops_pybind.ScannSearcher`: the C++ searcher as `.searcher`."""

    def __init__(self, native: _Native) -> None:
        self.searcher = native


def _search(indices, distances, num_neighbors, pre=None, leaves=None):
    native = _Native(np.asarray(indices), np.asarray(distances, np.float32))
    scores, rows = search_pybind(
        _Searcher(native), np.zeros((len(indices), 4), np.float32), num_neighbors, pre, leaves
    )
    return scores, rows, native.calls


def test_one_thread_and_none_as_scanns_default() -> None:
    _, _, calls = _search(np.zeros((1, 2), np.uint32), [[2.0, 1.0]], 2)
    assert calls == [((1, 4), 2, -1, -1, False, 0)]
    _, _, calls = _search(np.zeros((1, 2), np.uint32), [[2.0, 1.0]], 2, pre=40, leaves=3)
    assert calls == [((1, 4), 2, 40, 3, False, 0)]


def test_full_results_pass_through_as_int32_rows() -> None:
    for dtype in (np.uint32, np.int64):  # reinterpreted, or converted where not 4 bytes
        scores, rows, _ = _search(np.array([[7, 3], [0, 5]], dtype), [[2.0, 1.0], [4.0, 3.0]], 2)
        assert rows.dtype == np.int32 and rows.tolist() == [[7, 3], [0, 5]]
        assert scores.dtype == np.float32 and scores.tolist() == [[2.0, 1.0], [4.0, 3.0]]


def test_empty_slots_become_minus_inf_and_minus_one() -> None:
    scores, rows, _ = _search(
        np.array([[4, 0, 0], [2, 1, 0]], np.uint32), [[5.0, np.nan, np.nan], [3.0, 2.0, np.nan]], 3
    )
    assert rows.tolist() == [[4, -1, -1], [2, 1, -1]]
    assert scores.tolist() == [[5.0, -np.inf, -np.inf], [3.0, 2.0, -np.inf]]


def test_missing_columns_are_padded() -> None:
    scores, rows, _ = _search(np.array([[4]], np.uint32), [[5.0]], 3)
    assert rows.tolist() == [[4, -1, -1]] and scores.tolist() == [[5.0, -np.inf, -np.inf]]


# inf + -inf in the one-reduction check is the point of this test.
@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning")
def test_scores_whose_sum_is_nan_without_a_nan_are_returned_unchanged() -> None:
    # inf + -inf = NaN: the NaN check takes the masking path, which leaves them as they are.
    distances = np.array([[np.inf, 1.0, -np.inf]], np.float32)
    assert np.isnan(distances.sum())
    scores, rows, _ = _search(np.array([[0, 1, 2]], np.uint32), distances, 3)
    assert rows.tolist() == [[0, 1, 2]] and scores.tolist() == [[np.inf, 1.0, -np.inf]]
