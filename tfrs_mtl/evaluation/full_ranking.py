"""Full-ranking retrieval evaluation: every user against the whole catalogue, train items masked.

Two entry points share one metric accumulator (`RankingMetricAccumulator`):

- `evaluate_full_ranking(scores, train, test)` scores batches of users against all items
  (a scorer or two embedding matrices), masks each user's training items to `-inf`, takes the
  top K and accumulates Recall/NDCG/HitRate/MRR/MAP/coverage at every K.
- `evaluate_retrieved(top_k_item_ids, train, test)` scores the output of any retriever (for
  example a ScaNN index) by the same definitions: training items are removed from each row,
  which is then truncated to the largest K.

Test pairs the user already has in training cannot be retrieved once training items are
masked; they are dropped from the relevant sets and counted in `num_test_pairs_in_train`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tfrs_mtl.evaluation.interaction_sets import UserItemSets
from tfrs_mtl.evaluation.ranking_metrics import (
    DEFAULT_KS,
    RankingMetricAccumulator,
    validate_ks,
)
from tfrs_mtl.evaluation.score_source import (
    ScoreSource,
    as_score_fn,
    default_batch_size,
    iterate_batches,
    score_block,
    top_k_ids,
)

Pairs = tuple[np.ndarray, np.ndarray] | UserItemSets
"""`(user_indices [n], item_indices [n])` or prebuilt `UserItemSets`."""


@dataclass(frozen=True)
class RankingResult:
    """What a full-ranking evaluation measured.

    Attributes:
        metrics: `recall@K`, `ndcg@K`, `hit_rate@K`, `mrr@K`, `map@K`, `coverage@K`.
        recall_curve: mean Recall@K for K = 1..max(ks), `[max_k]`.
        num_users: users averaged over (those with at least one relevant test item).
        num_test_pairs_in_train: distinct test pairs dropped because the user had the item
            in training.
    """

    metrics: dict[str, float]
    recall_curve: np.ndarray
    num_users: int
    num_test_pairs_in_train: int


def as_user_item_sets(pairs: Pairs, num_users: int, num_items: int) -> UserItemSets:
    """`UserItemSets` of `pairs`, checking its shape when it is already one."""
    if isinstance(pairs, UserItemSets):
        if (pairs.num_users, pairs.num_items) != (num_users, num_items):
            raise ValueError(
                f"UserItemSets is {pairs.num_users} x {pairs.num_items} users x items, "
                f"expected {num_users} x {num_items}"
            )
        return pairs
    users, items = pairs
    return UserItemSets.from_pairs(users, items, num_users=num_users, num_items=num_items)


def _infer_num_users(*pairs: Pairs) -> int:
    largest = -1
    for pair in pairs:
        if isinstance(pair, UserItemSets):
            largest = max(largest, pair.num_users - 1)
        elif np.asarray(pair[0]).size:
            largest = max(largest, int(np.max(pair[0])))
    return largest + 1


def relevant_sets(train: UserItemSets, test: UserItemSets) -> tuple[UserItemSets, int]:
    """Test sets without the items each user has in training, and how many were removed."""
    users, items = test.pairs()
    in_train = train.contains(users, items[:, None])[:, 0]
    kept = UserItemSets.from_pairs(
        users[~in_train], items[~in_train], num_users=test.num_users, num_items=test.num_items
    )
    return kept, int(in_train.sum())


def evaluate_full_ranking(
    scores: ScoreSource,
    train_pairs: Pairs,
    test_pairs: Pairs,
    *,
    num_users: int | None = None,
    num_items: int | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int | None = None,
) -> RankingResult:
    """Ranks the whole catalogue for every test user, training items masked.

    Args:
        scores: `score_fn(user_indices [b]) -> [b, num_items]`, or
            `(query_embeddings [num_users, dim], item_embeddings [num_items, dim])`.
        train_pairs: `(user_indices, item_indices)` seen in training; masked to `-inf`.
        test_pairs: `(user_indices, item_indices)` to retrieve.
        num_users: number of users (default: from the embeddings or the largest index + 1).
        num_items: catalogue size (required with a `score_fn`).
        ks: cut-offs.
        batch_size: users per score block (default: ~16M cells per block).

    Returns:
        A `RankingResult`.

    Example:
        >>> result = evaluate_full_ranking((query, items), (tr_u, tr_i), (te_u, te_i), ks=(10,))
        >>> result.metrics["recall@10"]  # doctest: +SKIP
    """
    cutoffs = validate_ks(ks)
    score_fn, num_items = as_score_fn(scores, num_items)
    if num_users is None:
        num_users = (
            np.asarray(scores[0]).shape[0]
            if isinstance(scores, tuple)
            else _infer_num_users(train_pairs, test_pairs)
        )
    train = as_user_item_sets(train_pairs, num_users, num_items)
    relevant, num_in_train = relevant_sets(
        train, as_user_item_sets(test_pairs, num_users, num_items)
    )
    accumulator = RankingMetricAccumulator(cutoffs, num_items)
    counts = relevant.counts()
    test_users = np.flatnonzero(counts > 0)
    for users in iterate_batches(test_users, batch_size or default_batch_size(num_items)):
        block = score_block(score_fn, users, num_items)
        block[train.dense_block(users)] = -np.inf
        _, ids = top_k_ids(block, accumulator.max_k)
        relevance = relevant.dense_block(users)
        rows = np.arange(users.size)[:, None]
        hits = relevance[rows, ids.clip(min=0)] & (ids >= 0)
        accumulator.update(ids, hits, counts[users])
    return RankingResult(
        accumulator.result(), accumulator.recall_curve(), accumulator.num_users, num_in_train
    )


def top_k_lists(
    scores: ScoreSource,
    train_pairs: Pairs,
    user_indices: np.ndarray,
    *,
    num_users: int,
    num_items: int,
    k: int,
    batch_size: int | None = None,
) -> np.ndarray:
    """The `k` best items `[n, k]` of each user of `user_indices` `[n]` over the whole
    catalogue, the user's training items masked (-1 pads a row with fewer items): the lists
    `evaluate_full_ranking` scores, for metrics it does not compute.

    Args:
        scores: as for `evaluate_full_ranking`.
        train_pairs: `(user_indices, item_indices)` seen in training; never listed.
        user_indices: the users.
        num_users: number of users.
        num_items: catalogue size.
        k: items per list.
        batch_size: users per score block (default: ~16M cells per block).
    """
    score_fn, num_items = as_score_fn(scores, num_items)
    train = as_user_item_sets(train_pairs, num_users, num_items)
    users = np.asarray(user_indices, np.int64)
    lists = [np.zeros((0, k), np.int64)]
    for batch in iterate_batches(users, batch_size or default_batch_size(num_items)):
        block = score_block(score_fn, batch, num_items)
        block[train.dense_block(batch)] = -np.inf
        lists.append(top_k_ids(block, k)[1])
    return np.concatenate(lists)


def retrieval_depth(train_pairs: Pairs, k: int, *, num_users: int, num_items: int) -> int:
    """How many neighbours to ask a retriever for so that `k` remain after removing any
    user's training items: `min(num_items, k + the largest training count of a user)`."""
    train = as_user_item_sets(train_pairs, num_users, num_items)
    return int(min(num_items, k + train.counts().max(initial=0)))


def _drop_train_items(ids: np.ndarray, in_train: np.ndarray) -> np.ndarray:
    """Moves the ids that are not training items to the front of each row, in order; pads -1."""
    dropped = in_train | (ids < 0)
    order = np.argsort(dropped, axis=1, kind="stable")
    compacted = np.take_along_axis(ids, order, axis=1)
    compacted[np.take_along_axis(dropped, order, axis=1)] = -1
    return compacted


def evaluate_retrieved(
    top_k_item_ids: np.ndarray,
    train_pairs: Pairs,
    test_pairs: Pairs,
    *,
    num_items: int,
    user_indices: np.ndarray | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    mask_train: bool = True,
    batch_size: int = 65_536,
) -> RankingResult:
    """Scores the top-K lists of any retriever (e.g. a ScaNN index) like `evaluate_full_ranking`.

    Ask the retriever for `max(ks)` plus the largest number of training items of a user, so
    that `max(ks)` ids remain once training items are removed.

    Args:
        top_k_item_ids: `[num_rows, k]` int item ids, best first; `-1` for padding.
        train_pairs: `(user_indices, item_indices)` seen in training.
        test_pairs: `(user_indices, item_indices)` to retrieve.
        num_items: catalogue size.
        user_indices: `[num_rows]` user of each row (default: row `r` is user `r`).
        ks: cut-offs.
        mask_train: remove training items from each row before truncating to `max(ks)`.
        batch_size: rows per batch.

    Raises:
        ValueError: when a user with a relevant test item has no row.
    """
    cutoffs = validate_ks(ks)
    ids_all = np.asarray(top_k_item_ids, dtype=np.int64)
    if ids_all.ndim != 2:
        raise ValueError(f"top_k_item_ids must be [num_rows, k], got shape {ids_all.shape}")
    if user_indices is None:
        user_indices = np.arange(ids_all.shape[0], dtype=np.int64)
    user_indices = np.asarray(user_indices, dtype=np.int64)
    if user_indices.shape != (ids_all.shape[0],):
        raise ValueError(
            f"user_indices has shape {user_indices.shape}, expected ({ids_all.shape[0]},)"
        )
    num_users = max(
        _infer_num_users(train_pairs, test_pairs), int(user_indices.max(initial=-1)) + 1
    )
    train = as_user_item_sets(train_pairs, num_users, num_items)
    relevant, num_in_train = relevant_sets(
        train, as_user_item_sets(test_pairs, num_users, num_items)
    )
    counts = relevant.counts()
    missing = np.setdiff1d(np.flatnonzero(counts > 0), user_indices)
    if missing.size:
        raise ValueError(
            f"{missing.size} users with test items have no retrieved row, e.g. user {missing[0]}"
        )
    accumulator = RankingMetricAccumulator(cutoffs, num_items)
    rows = np.arange(ids_all.shape[0])
    for batch in iterate_batches(rows, batch_size):
        users, ids = user_indices[batch], ids_all[batch]
        ids = np.where((ids >= 0) & (ids < num_items), ids, -1)
        if mask_train:
            ids = _drop_train_items(ids, train.contains(users, ids))
        ids = ids[:, : accumulator.max_k]
        if ids.shape[1] < accumulator.max_k:
            ids = np.pad(ids, ((0, 0), (0, accumulator.max_k - ids.shape[1])), constant_values=-1)
        accumulator.update(ids, relevant.contains(users, ids), counts[users])
    return RankingResult(
        accumulator.result(), accumulator.recall_curve(), accumulator.num_users, num_in_train
    )
