"""`retrieval_metrics`: the `retrieval/*` metrics of the report for any score source.

One call gives what `metrics.json` and the Recall@K plot need: full-ranking metrics at the
requested cut-offs (training items masked), `top100_hit` (the TFRS tutorials' metric,
nothing masked) and the Recall@K curve for K = 1..100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tfrs_mtl.evaluation.full_ranking import Pairs, evaluate_full_ranking
from tfrs_mtl.evaluation.ranking_metrics import DEFAULT_KS
from tfrs_mtl.evaluation.score_source import ScoreSource
from tfrs_mtl.evaluation.top_k_hit import top100_hit

CURVE_LENGTH = 100


@dataclass(frozen=True)
class RetrievalMetrics:
    """Attributes:
    metrics: `recall@K`, `ndcg@K`, `hit_rate@K`, `mrr@K`, `map@K`, `coverage@K` for the
        requested K, and `top100_hit`.
    recall_curve: mean Recall@K for K = 1..100, `[100]`.
    """

    metrics: dict[str, float]
    recall_curve: np.ndarray


def retrieval_metrics(
    scores: ScoreSource,
    train_pairs: Pairs,
    test_pairs: tuple[np.ndarray, np.ndarray],
    *,
    num_users: int | None = None,
    num_items: int | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int | None = None,
) -> RetrievalMetrics:
    """Full-ranking metrics at `ks`, `top100_hit` and the Recall@1..100 curve.

    Args:
        scores: `score_fn(user_indices [b]) -> [b, num_items]` or
            `(query_embeddings [num_users, dim], item_embeddings [num_items, dim])`.
        train_pairs: `(user_indices, item_indices)` seen in training (masked for ranking).
        test_pairs: `(user_indices, item_indices)`, one entry per test interaction.
        num_users: number of users (default: inferred).
        num_items: catalogue size (required with a `score_fn`).
        ks: cut-offs reported in `metrics`.
        batch_size: users per score block.

    Example:
        >>> result = retrieval_metrics((query, items), train, test)  # doctest: +SKIP
        >>> result.metrics["recall@10"], result.metrics["top100_hit"]  # doctest: +SKIP
    """
    requested = tuple(sorted({int(k) for k in ks}))
    result = evaluate_full_ranking(
        scores,
        train_pairs,
        test_pairs,
        num_users=num_users,
        num_items=num_items,
        # The accumulator's recall curve spans K = 1..max(ks), so adding 100 is enough.
        ks=(*requested, CURVE_LENGTH),
        batch_size=batch_size,
    )
    names = {
        f"{name}@{k}"
        for k in requested
        for name in ("recall", "ndcg", "hit_rate", "mrr", "map", "coverage")
    }
    metrics = {name: value for name, value in result.metrics.items() if name in names}
    metrics["top100_hit"] = top100_hit(
        scores, test_pairs, num_items=num_items, batch_size=batch_size
    )
    return RetrievalMetrics(metrics, result.recall_curve[:CURVE_LENGTH])
