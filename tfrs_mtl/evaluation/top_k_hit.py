"""`top100_hit`: the TFRS tutorials' retrieval metric, computed over the whole catalogue.

`tfrs.metrics.FactorizedTopK` (score-based, with an exact candidate layer such as
`tfrs.layers.factorized_top_k.BruteForce`) asks, for every test interaction, whether the true
item's score is within the top K of all candidate scores: `tf.math.in_top_k` over the
positive score followed by the top-K retrieved scores. `in_top_k` counts only candidates that
score *strictly higher* than the positive, so ties favour the positive. Nothing is masked (the
user's training items compete too) and the result is averaged over interactions, not users.

That is the same as `score(user, item) >= K-th largest score of the user`, which this module
evaluates in batches of users (`tie_break="optimistic"`). One difference of floating-point
origin: FactorizedTopK computes the positive score with an element-wise product and sum, and
candidate scores with a matmul; here both come from the same matmul, so the positive never
competes with itself.

Given `true_candidate_ids`, FactorizedTopK is id-based instead: is the true id among the K ids
the candidate layer returns, where `tf.math.top_k` puts the lower index first among equal
scores (`tie_break="lower_index"`). The two agree unless scores tie, which is common for
count-based scorers such as popularity.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from tfrs_mtl.evaluation.score_source import (
    ScoreSource,
    as_score_fn,
    default_batch_size,
    iterate_batches,
    score_block,
    top_k_ids,
)


def top_k_hit(
    scores: ScoreSource,
    test_pairs: tuple[np.ndarray, np.ndarray],
    *,
    k: int = 100,
    num_items: int | None = None,
    batch_size: int | None = None,
    tie_break: Literal["optimistic", "lower_index"] = "optimistic",
) -> float:
    """Fraction of test interactions whose item is in the user's top `k` of all items.

    Args:
        scores: `score_fn(user_indices [b]) -> [b, num_items]`, or
            `(query_embeddings [num_users, dim], item_embeddings [num_items, dim])`.
        test_pairs: `(user_indices [n], item_indices [n])`, one entry per interaction
            (duplicates count as often as they occur).
        k: the cut-off.
        num_items: catalogue size (required with a `score_fn`).
        batch_size: users per score block.
        tie_break: `"optimistic"`: items tied with the true item do not push it out (score-based
            FactorizedTopK, as in the TFRS tutorials); `"lower_index"`: the true item must be
            among the top-K ids with ties going to the lower index (id-based FactorizedTopK).

    Returns:
        The hit rate over interactions, as FactorizedTopK's `top_{k}_categorical_accuracy`.
    """
    if tie_break not in ("optimistic", "lower_index"):
        raise ValueError(f"tie_break must be 'optimistic' or 'lower_index', got {tie_break!r}")
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    score_fn, num_items = as_score_fn(scores, num_items)
    users = np.asarray(test_pairs[0], dtype=np.int64)
    items = np.asarray(test_pairs[1], dtype=np.int64)
    if users.shape != items.shape or users.ndim != 1:
        raise ValueError(f"test user and item indices differ: {users.shape} vs {items.shape}")
    if users.size == 0:
        raise ValueError("test_pairs is empty")
    if items.min() < 0 or items.max() >= num_items:
        raise ValueError(f"test item indices must lie in [0, {num_items})")
    order = np.argsort(users, kind="stable")
    users, items = users[order], items[order]
    unique_users, starts = np.unique(users, return_index=True)
    hits = 0
    positions = np.arange(unique_users.size)
    for batch in iterate_batches(positions, batch_size or default_batch_size(num_items)):
        block = score_block(score_fn, unique_users[batch], num_items)
        first = starts[batch[0]]
        last = starts[batch[-1] + 1] if batch[-1] + 1 < starts.size else users.size
        # Row in the block of each interaction of this batch of users.
        rows = np.searchsorted(unique_users[batch], users[first:last])
        positive = block[rows, items[first:last]]
        if tie_break == "lower_index":
            _, ids = top_k_ids(block, k)
            found = (ids[rows] == items[first:last, None]).any(axis=1)
        elif k >= num_items:
            found = np.ones(rows.size, dtype=bool)
        else:
            values, _ = top_k_ids(block, k)
            found = positive >= values[rows, k - 1]
        hits += int(np.sum(np.isfinite(positive) & found))
    return hits / users.size


def top100_hit(
    scores: ScoreSource,
    test_pairs: tuple[np.ndarray, np.ndarray],
    *,
    num_items: int | None = None,
    batch_size: int | None = None,
    tie_break: Literal["optimistic", "lower_index"] = "optimistic",
) -> float:
    """`top_k_hit` at K = 100: the TFRS tutorials' "top-100 accuracy"."""
    return top_k_hit(
        scores,
        test_pairs,
        k=100,
        num_items=num_items,
        batch_size=batch_size,
        tie_break=tie_break,
    )
