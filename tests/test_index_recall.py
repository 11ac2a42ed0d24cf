"""index_recall: overlap of approximate and exact top-k."""

from __future__ import annotations

import pytest

from tfrs_mtl.evaluation.index_recall import index_recall


def test_hand_computed_overlap() -> None:
    # Query 0: {1, 2} vs {2, 1} -> 2/2; query 1: {3, 4} vs {3, 5} -> 1/2. Mean 3/4.
    assert index_recall([[1, 2], [3, 4]], [[2, 1], [3, 5]]) == pytest.approx(0.75)


def test_padding_and_duplicates_do_not_count() -> None:
    # Approximate [1, 1, -1]: only the distinct, real id 1 is found -> 1/3.
    assert index_recall([[1, 1, -1]], [[1, 2, 3]]) == pytest.approx(1 / 3)


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="same rows"):
        index_recall([[1, 2]], [[1, 2], [3, 4]])
