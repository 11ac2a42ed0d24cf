"""Graded relevance of ranked lists: NDCG@K whose gain is each test item's rating.

`graded_ndcg(lists, users, test)` scores every user's top-K list (any retriever's: the exact
full ranking, an index, the served two-stage list) against the user's test items with their
gains (e.g. the ratings given): DCG@K = sum_{r <= K} gain_r / log2(r + 1), divided by the
ideal DCG@K, the user's gains sorted best first. Items that are not among the user's test
items gain 0. Averaged over the users with a test item of positive gain; a user's test item
seen twice keeps its largest gain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class GradedRelevance:
    """Users' test items with their gains, looked up by (user, item).

    Args:
        user_indices: `[n]` user index of each pair.
        item_indices: `[n]` item index of each pair.
        gains: `[n]` the gain of each pair; pairs of gain <= 0 are left out, a repeated pair
            keeps its largest gain.
        num_items: catalogue size.
    """

    def __init__(
        self,
        user_indices: np.ndarray,
        item_indices: np.ndarray,
        gains: np.ndarray,
        *,
        num_items: int,
    ) -> None:
        pairs = pd.DataFrame(
            {
                "user": np.asarray(user_indices, np.int64),
                "item": np.asarray(item_indices, np.int64),
                "gain": np.asarray(gains, np.float64),
            }
        )
        self.pairs: pd.DataFrame = (
            pairs[pairs["gain"] > 0].groupby(["user", "item"])["gain"].max().reset_index()
        )
        self.num_items = num_items
        self._gain_of = pd.Series(
            self.pairs["gain"].to_numpy(),
            index=self.pairs["user"].to_numpy() * num_items + self.pairs["item"].to_numpy(),
        )

    def gains(self, user_indices: np.ndarray, item_indices: np.ndarray) -> np.ndarray:
        """`[n, m]` the gain of `item_indices[r, j]` for user `user_indices[r]` (0 where the
        pair has none or the item is -1)."""
        items = np.asarray(item_indices, np.int64)
        users = np.asarray(user_indices, np.int64)
        keys = users[:, None] * self.num_items + np.maximum(items, 0)
        found = self._gain_of.reindex(keys.reshape(-1)).fillna(0.0).to_numpy()
        return np.where(items >= 0, found.reshape(items.shape), 0.0)

    def ideal_dcg(self, user_indices: np.ndarray, k: int) -> np.ndarray:
        """`[n]` each user's best DCG@k: their gains sorted best first (0: no pair)."""
        discounts = discounts_at(k)
        ranked = self.pairs.sort_values(["user", "gain"], ascending=[True, False], kind="stable")
        rank = ranked.groupby("user").cumcount().to_numpy()
        best = ranked[rank < k]
        ideal = (best["gain"] * discounts[rank[rank < k]]).groupby(best["user"]).sum()
        return ideal.reindex(np.asarray(user_indices, np.int64)).fillna(0.0).to_numpy()


def discounts_at(k: int) -> np.ndarray:
    """`[k]` the DCG discounts 1 / log2(rank + 1), rank from 1."""
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def graded_ndcg(
    top_k_item_ids: np.ndarray,
    user_indices: np.ndarray,
    test_users: np.ndarray,
    test_items: np.ndarray,
    gains: np.ndarray,
    *,
    num_items: int,
    k: int,
) -> float:
    """Mean graded NDCG@k of the lists.

    Args:
        top_k_item_ids: `[num_rows, >= k]` item indices, best first, -1 for empty slots.
        user_indices: `[num_rows]` the user of each row.
        test_users: `[n]` user index of each test pair (pairs the evaluation keeps: e.g.
            without the user's training items, which no list may show).
        test_items: `[n]` item index of each test pair.
        gains: `[n]` the gain of each pair (e.g. its rating); pairs of gain <= 0 count 0.
        num_items: catalogue size.
        k: the cut-off.

    Returns:
        The mean over rows whose user has a test pair of positive gain.

    Raises:
        ValueError: no row has a user with a positive gain, or the lists are narrower than
            `k`.
    """
    ids = np.asarray(top_k_item_ids, np.int64)
    users = np.asarray(user_indices, np.int64)
    if ids.ndim != 2 or ids.shape[1] < k or users.shape != (ids.shape[0],):
        raise ValueError(
            f"top_k_item_ids {ids.shape} must be [num_rows, >= {k}] with one user per row "
            f"(user_indices {users.shape})"
        )
    relevance = GradedRelevance(test_users, test_items, gains, num_items=num_items)
    ideal = relevance.ideal_dcg(users, k)
    counted = ideal > 0
    if not counted.any():
        raise ValueError("no listed user has a test item of positive gain")
    dcg = (relevance.gains(users, ids[:, :k]) * discounts_at(k)).sum(axis=1)
    return float((dcg[counted] / ideal[counted]).mean())
