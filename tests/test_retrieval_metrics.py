"""retrieval_metrics: requested cut-offs, top100_hit and the Recall@1..100 curve."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.evaluation.retrieval_metrics import retrieval_metrics

# The case of test_full_ranking: user 0 ranks [1, 2, 3, 4] after masking item 0 and has
# test items {2, 4}; user 1 ties everywhere (ranks [0, 1, 2, 3, 4]) and has test item {0}.
QUERY = np.array([[1.0], [0.0]], dtype=np.float32)
ITEMS = np.array([[0.9], [0.8], [0.7], [0.6], [0.5]], dtype=np.float32)
TRAIN = (np.array([0]), np.array([0]))
TEST = (np.array([0, 0, 1]), np.array([2, 4, 0]))


def test_metrics_and_curve() -> None:
    result = retrieval_metrics((QUERY, ITEMS), TRAIN, TEST, ks=(2,))
    assert set(result.metrics) == {
        "recall@2",
        "ndcg@2",
        "hit_rate@2",
        "mrr@2",
        "map@2",
        "coverage@2",
        "top100_hit",
    }
    # Recall@2 = (1/2 + 1) / 2; every interaction is within the top 100 of 5 items.
    assert result.metrics["recall@2"] == pytest.approx(0.75)
    assert result.metrics["top100_hit"] == pytest.approx(1.0)
    # Recall@1 = (0 + 1)/2, @2 = 0.75, @3 = 0.75, @4 and beyond = 1.
    assert result.recall_curve.shape == (100,)
    np.testing.assert_allclose(result.recall_curve[:5], [0.5, 0.75, 0.75, 1.0, 1.0])
