"""top_k_hit / top100_hit: hand-computed ties and equality with tfrs.metrics.FactorizedTopK."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_recommenders as tfrs

from tfrs_mtl.evaluation.top_k_hit import top100_hit, top_k_hit

# One user, items scored [3, 1, 2, 2]; one test interaction with every item.
QUERY = np.array([[1.0]], dtype=np.float32)
ITEMS = np.array([[3.0], [1.0], [2.0], [2.0]], dtype=np.float32)
TEST = (np.zeros(4, dtype=np.int64), np.arange(4))


def test_optimistic_ties_hand_computed() -> None:
    # k=2. Items strictly above: item 0 -> 0, item 1 -> 3, items 2 and 3 -> 1 each.
    # A hit when fewer than k are strictly above: items 0, 2, 3 -> 3/4.
    assert top_k_hit((QUERY, ITEMS), TEST, k=2) == pytest.approx(3 / 4)


def test_lower_index_ties_hand_computed() -> None:
    # Top-2 ids with ties to the lower index: [0, 2]; items 0 and 2 hit -> 2/4.
    assert top_k_hit((QUERY, ITEMS), TEST, k=2, tie_break="lower_index") == pytest.approx(2 / 4)


def test_k_beyond_catalogue_always_hits_and_duplicates_count() -> None:
    # Interactions, not users: item 1 twice and item 0 once.
    test = (np.zeros(3, dtype=np.int64), np.array([1, 1, 0]))
    assert top100_hit((QUERY, ITEMS), test) == pytest.approx(1.0)
    assert top_k_hit((QUERY, ITEMS), test, k=1) == pytest.approx(1 / 3)


def _factorized_top_k(query, items, users, positives, ks, with_ids):
    candidates = tfrs.layers.factorized_top_k.BruteForce()
    candidates.index(tf.constant(items), identifiers=tf.range(items.shape[0]))
    metric = tfrs.metrics.FactorizedTopK(candidates=candidates, ks=ks)
    metric.update_state(
        tf.constant(query[users]),
        tf.constant(items[positives]),
        true_candidate_ids=tf.constant(positives, dtype=tf.int32) if with_ids else None,
    )
    return [float(value) for value in metric.result()]


@pytest.mark.parametrize(("with_ids", "tie_break"), [(False, "optimistic"), (True, "lower_index")])
def test_equals_factorized_top_k_with_brute_force(with_ids: bool, tie_break: str) -> None:
    # Small integer embeddings: dot products are exact in float32 whatever the summation
    # order, and ties are frequent, so the comparison is exact and exercises tie handling.
    rng = np.random.default_rng(7)
    query = rng.integers(-2, 3, size=(8, 3)).astype(np.float32)
    items = rng.integers(-2, 3, size=(30, 3)).astype(np.float32)
    users = rng.integers(0, 8, size=50)
    positives = rng.integers(0, 30, size=50)
    ks = (1, 5, 10)
    expected = _factorized_top_k(query, items, users, positives, ks, with_ids)
    got = [
        top_k_hit((query, items), (users, positives), k=k, tie_break=tie_break, batch_size=3)
        for k in ks
    ]
    assert got == pytest.approx(expected, abs=1e-6)
    # The two conventions differ on these ties, so the test tells them apart.
    other = "lower_index" if tie_break == "optimistic" else "optimistic"
    assert [top_k_hit((query, items), (users, positives), k=k, tie_break=other) for k in ks] != (
        pytest.approx(expected, abs=1e-6)
    )
