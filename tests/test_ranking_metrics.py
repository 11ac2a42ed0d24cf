"""RankingMetricAccumulator against hand-computed metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tfrs_mtl.evaluation.ranking_metrics import RankingMetricAccumulator


def test_hand_computed_metrics_two_users() -> None:
    # User A: top-4 ids [1, 2, 3, 4], relevant {2, 4} (n=2): hits at ranks 2 and 4.
    # User B: top-4 ids [0, 1, 2, 3], relevant {0} (n=1): hit at rank 1.
    # User C: no relevant items: skipped.
    acc = RankingMetricAccumulator(ks=(1, 2, 4), num_items=5)
    acc.update(
        np.array([[1, 2, 3, 4], [0, 1, 2, 3], [4, 3, 2, 1]]),
        np.array([[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=bool),
        np.array([2, 1, 0]),
    )
    m = acc.result()
    assert acc.num_users == 2
    # Recall@1 = (0/1 + 1/1)/2; Recall@2 = (1/2 + 1/1)/2; Recall@4 = (2/2 + 1)/2.
    assert m["recall@1"] == pytest.approx(0.5)
    assert m["recall@2"] == pytest.approx(0.75)
    assert m["recall@4"] == pytest.approx(1.0)
    # NDCG@2, A: (1/log2 3) / (1 + 1/log2 3); B: 1.
    ndcg_a2 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert m["ndcg@2"] == pytest.approx((ndcg_a2 + 1) / 2)
    # NDCG@4, A: (1/log2 3 + 1/log2 5) / (1 + 1/log2 3).
    ndcg_a4 = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert m["ndcg@4"] == pytest.approx((ndcg_a4 + 1) / 2)
    # HitRate@1 = (0 + 1)/2; MRR@1 = (0 + 1)/2; MRR@2 = (1/2 + 1)/2.
    assert m["hit_rate@1"] == pytest.approx(0.5)
    assert m["mrr@1"] == pytest.approx(0.5)
    assert m["mrr@2"] == pytest.approx(0.75)
    # MAP@2, A: (P@2 = 1/2) / min(2, 2) = 1/4; B: 1. MAP@4, A: (1/2 + 2/4) / 2 = 1/2.
    assert m["map@2"] == pytest.approx((0.25 + 1) / 2)
    assert m["map@4"] == pytest.approx((0.5 + 1) / 2)
    # Coverage counts evaluated users only: @1 {1, 0} of 5; @2 {1, 2, 0} of 5.
    assert m["coverage@1"] == pytest.approx(2 / 5)
    assert m["coverage@2"] == pytest.approx(3 / 5)
    np.testing.assert_allclose(acc.recall_curve(), [0.5, 0.75, 0.75, 1.0])


def test_batches_accumulate_like_one_batch() -> None:
    ids = np.array([[1, 2], [0, 1]])
    hits = np.array([[0, 1], [1, 0]], dtype=bool)
    whole = RankingMetricAccumulator(ks=(1, 2), num_items=3)
    whole.update(ids, hits, np.array([3, 1]))
    split = RankingMetricAccumulator(ks=(1, 2), num_items=3)
    split.update(ids[:1], hits[:1], np.array([3]))
    split.update(ids[1:], hits[1:], np.array([1]))
    assert split.result() == pytest.approx(whole.result())


def test_padding_ids_are_not_covered() -> None:
    acc = RankingMetricAccumulator(ks=(2,), num_items=4)
    acc.update(np.array([[3, -1]]), np.array([[True, False]]), np.array([1]))
    assert acc.result()["coverage@2"] == pytest.approx(1 / 4)


def test_no_user_is_an_error() -> None:
    acc = RankingMetricAccumulator(ks=(1,), num_items=2)
    acc.update(np.array([[0]]), np.array([[False]]), np.array([0]))
    with pytest.raises(ValueError, match="no user"):
        acc.result()


def test_bad_ks_and_shapes() -> None:
    with pytest.raises(ValueError, match="ks must be positive"):
        RankingMetricAccumulator(ks=(0, 5), num_items=2)
    acc = RankingMetricAccumulator(ks=(2,), num_items=2)
    with pytest.raises(ValueError, match=r"must both be \(1, 2\)"):
        acc.update(np.array([[0]]), np.array([[True]]), np.array([1]))
