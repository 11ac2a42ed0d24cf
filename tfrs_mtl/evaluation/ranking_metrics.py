"""Top-K ranking metrics accumulated over batches of users, without a per-user loop.

Definitions (binary relevance; `n_u` = number of the user's relevant test items,
`hits_u@K` = relevant items among the user's top K, rank `r` counted from 1):

- Recall@K = hits_u@K / min(K, n_u) (Liang et al., "Variational Autoencoders for
  Collaborative Filtering", WWW 2018), so that a perfect ranking scores 1 at every K.
- NDCG@K = sum_{r <= K} rel_r / log2(r + 1), divided by the ideal DCG of min(K, n_u) hits.
- HitRate@K = 1 if hits_u@K > 0.
- MRR@K = 1 / (rank of the first hit) if it is within K, else 0.
- MAP@K = sum_{r <= K} Precision@r * rel_r / min(K, n_u).
- Coverage@K = distinct items shown in any evaluated user's top K / catalogue size.

Every per-user metric is averaged over users with n_u >= 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_KS: tuple[int, ...] = (1, 5, 10, 20, 50, 100)
METRIC_NAMES: tuple[str, ...] = ("recall", "ndcg", "hit_rate", "mrr", "map")


def validate_ks(ks: Sequence[int]) -> tuple[int, ...]:
    """Sorted distinct cut-offs; raises `ValueError` for an empty list or K < 1."""
    cutoffs = tuple(sorted({int(k) for k in ks}))
    if not cutoffs or cutoffs[0] < 1:
        raise ValueError(f"ks must be positive integers, got {tuple(ks)}")
    return cutoffs


class RankingMetricAccumulator:
    """Sums ranking metrics over batches of users; `result()` gives the averages.

    Args:
        ks: cut-offs K at which metrics are reported.
        num_items: catalogue size (for coverage).

    Example:
        >>> acc = RankingMetricAccumulator(ks=(1, 2), num_items=4)
        >>> acc.update(np.array([[3, 1]]), np.array([[False, True]]), np.array([1]))
        >>> acc.result()["recall@2"]
        1.0
    """

    def __init__(self, ks: Sequence[int], num_items: int) -> None:
        self.ks = validate_ks(ks)
        self.num_items = num_items
        self.max_k = self.ks[-1]
        self.num_users = 0
        self._sums = {f"{name}@{k}": 0.0 for name in METRIC_NAMES for k in self.ks}
        self._recall_curve_sum = np.zeros(self.max_k, dtype=np.float64)
        self._covered = np.zeros((len(self.ks), num_items), dtype=bool)
        ranks = np.arange(1, self.max_k + 1, dtype=np.float64)
        self._ranks = ranks
        self._discounts = 1.0 / np.log2(ranks + 1.0)
        self._ideal_dcg = np.cumsum(self._discounts)

    def update(self, top_k_ids: np.ndarray, hits: np.ndarray, num_relevant: np.ndarray) -> None:
        """Adds a batch of users.

        Args:
            top_k_ids: `[batch_size, max_k]` int item ids, best first, `-1` for padding.
            hits: `[batch_size, max_k]` bool, whether each retrieved item is relevant.
            num_relevant: `[batch_size]` int, the user's number of relevant test items;
                users with 0 are skipped.
        """
        top_k_ids = np.asarray(top_k_ids)
        hits = np.asarray(hits, dtype=bool)
        num_relevant = np.asarray(num_relevant, dtype=np.int64)
        expected = (num_relevant.size, self.max_k)
        if top_k_ids.shape != expected or hits.shape != expected:
            raise ValueError(
                f"top_k_ids {top_k_ids.shape} and hits {hits.shape} must both be {expected}"
            )
        keep = num_relevant > 0
        top_k_ids, hits, num_relevant = top_k_ids[keep], hits[keep], num_relevant[keep]
        if num_relevant.size == 0:
            return
        self.num_users += num_relevant.size
        hit_values = hits.astype(np.float64)
        cumulative_hits = np.cumsum(hit_values, axis=1)
        dcg = np.cumsum(hit_values * self._discounts, axis=1)
        average_precision_sum = np.cumsum(hit_values * cumulative_hits / self._ranks, axis=1)
        # [batch, max_k]: min(K, n_u) for every K = 1..max_k.
        denominators = np.minimum(self._ranks[None, :], num_relevant[:, None])
        recall = cumulative_hits / denominators
        self._recall_curve_sum += recall.sum(axis=0)
        first_hit_rank = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, self.max_k + 1)
        for position, k in enumerate(self.ks):
            column = k - 1
            ideal = self._ideal_dcg[denominators[:, column].astype(np.int64) - 1]
            self._sums[f"recall@{k}"] += recall[:, column].sum()
            self._sums[f"ndcg@{k}"] += (dcg[:, column] / ideal).sum()
            self._sums[f"hit_rate@{k}"] += (cumulative_hits[:, column] > 0).sum()
            self._sums[f"mrr@{k}"] += np.where(first_hit_rank <= k, 1.0 / first_hit_rank, 0.0).sum()
            self._sums[f"map@{k}"] += (
                average_precision_sum[:, column] / denominators[:, column]
            ).sum()
            shown = top_k_ids[:, :k]
            self._covered[position, shown[shown >= 0]] = True

    def result(self) -> dict[str, float]:
        """Averages over users: keys `recall@K`, `ndcg@K`, `hit_rate@K`, `mrr@K`, `map@K`,
        `coverage@K`. Raises `ValueError` when no user had a relevant item."""
        if self.num_users == 0:
            raise ValueError("no user with at least one relevant test item was evaluated")
        metrics = {name: total / self.num_users for name, total in self._sums.items()}
        for position, k in enumerate(self.ks):
            metrics[f"coverage@{k}"] = float(self._covered[position].sum() / self.num_items)
        return {name: float(value) for name, value in metrics.items()}

    def recall_curve(self) -> np.ndarray:
        """Mean Recall@K for K = 1..max_k, `[max_k]` float64."""
        if self.num_users == 0:
            raise ValueError("no user with at least one relevant test item was evaluated")
        return self._recall_curve_sum / self.num_users
