"""What `recommend` serves, scored: the two-stage lists beside stage 1's exact ranking.

`served_lists` asks a recommender (in-process or loaded from an export) for every test user's
list through `recommend` itself, with its default blend, `num_candidates` and the user's
training items excluded: exactly the call `tfrs-mtl recommend` makes. `list_metrics` scores
any lists by the same definitions, so the served rows and stage 1's rows compare:

* `recall@K`, `ndcg@K` (binary relevance: the user's test interactions, `tfrs_mtl.evaluation`);
* with ratings, `graded_ndcg@10` (gain = the test rating) and `liked_recall@10` (relevant: the
  test items rated at least `LIKED_RATING`), so that what the rating head adds shows;
* with behaviour labels (e-commerce), `<behaviour>_recall@20` and `<behaviour>_ndcg@20` for
  each of `BEHAVIOURS` present (relevant: the user's test rows with that behaviour).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tfrs_mtl._metric_names import (
    BEHAVIOUR_K,
    BEHAVIOURS,
    LIKED_RATING,
    LIST_METRIC_NAMES,
    SERVED_KS,
)
from tfrs_mtl.evaluation import UserItemSets, evaluate_retrieved, graded_ndcg
from tfrs_mtl.evaluation.score_source import iterate_batches
from tfrs_mtl.experiments.experiment_data import ExperimentData

__all__ = [
    "BEHAVIOURS",
    "BEHAVIOUR_K",
    "LIKED_RATING",
    "LIST_METRIC_NAMES",
    "SERVED_KS",
    "ServedLists",
    "list_metrics",
    "seen_items",
    "served_lists",
]

_BATCH_USERS = 256


@dataclasses.dataclass(frozen=True)
class ServedLists:
    """`recommend`'s output for a set of users, as item indices of the experiment data.

    Attributes:
        user_indices: `[num_users]` the users, one per row.
        item_rows: `[num_users, k]` item indices, best first (-1: an empty slot).
        scores: `{"retrieval" or task: [num_users, k]}` the raw scores of those items.
    """

    user_indices: np.ndarray
    item_rows: np.ndarray
    scores: dict[str, np.ndarray]

    @property
    def valid(self) -> np.ndarray:
        return self.item_rows >= 0


def seen_items(data: ExperimentData, train_positions: np.ndarray) -> list[list[str]]:
    """Each user's training interactions as item ids (what `recommend` excludes for them),
    in user-index order."""
    users, items = data.pairs(train_positions)
    order = np.argsort(users, kind="stable")
    ids = data.item_ids[items[order]]
    bounds = np.r_[0, np.cumsum(np.bincount(users, minlength=data.num_users))]
    return [list(ids[bounds[user] : bounds[user + 1]]) for user in range(data.num_users)]


def served_lists(
    recommender: Any,
    data: ExperimentData,
    users: Mapping[str, np.ndarray],
    user_indices: np.ndarray,
    exclude: Sequence[Sequence[str]],
    *,
    k: int,
    num_candidates: int,
    blend: Mapping[str, float] | None = None,
) -> ServedLists:
    """`recommender.recommend` for each user of `user_indices`, in batches.

    Args:
        recommender: a `Recommender` or a loaded export.
        data: the experiment data (item ids to indices).
        users: the query features of every user, in user-index order (`user_table`).
        user_indices: `[n]` the users to serve.
        exclude: per user (user-index order), the item ids never to return.
        k: items per list (at most the catalogue's size).
        num_candidates: stage 1's candidates per user (at most the catalogue's size).
        blend: the blend (None: the recommender's default).
    """
    # A list cannot be longer than the catalogue: clipped here, as `recommend` would clip it
    # (with a warning meant for a caller who asked for more).
    k = min(k, recommender.num_items)
    num_candidates = min(num_candidates, recommender.num_items)
    positions = pd.Index(data.item_ids)
    rows: list[np.ndarray] = []
    scores: dict[str, list[np.ndarray]] = {}
    for batch in iterate_batches(np.asarray(user_indices, np.int64), _BATCH_USERS):
        result = recommender.recommend(
            {name: values[batch] for name, values in users.items()},
            k=k,
            num_candidates=num_candidates,
            exclude=[exclude[user] for user in batch],
            blend=blend,
        )
        ids = np.asarray(result.item_ids).astype(str)
        found = positions.get_indexer(pd.Index(ids.reshape(-1))).reshape(ids.shape)
        rows.append(np.where(np.isnan(result.final_scores), -1, found))
        for name, values in {"retrieval": result.retrieval_scores, **result.scores}.items():
            scores.setdefault(name, []).append(values)
    return ServedLists(
        np.asarray(user_indices, np.int64),
        np.concatenate(rows) if rows else np.zeros((0, k), np.int64),
        {name: np.concatenate(parts) for name, parts in scores.items()},
    )


def list_metrics(
    lists: np.ndarray,
    user_indices: np.ndarray,
    data: ExperimentData,
    train_positions: np.ndarray,
    test_positions: np.ndarray,
    ks: Sequence[int] = SERVED_KS,
) -> dict[str, float]:
    """Every metric of the module docstring for `lists` `[n, >= max(ks, 20)]` of the users
    `user_indices` (which must include every user with a test interaction)."""
    train_pairs = data.pairs(train_positions)
    metrics: dict[str, float] = {}
    ranked = evaluate_retrieved(
        lists,
        train_pairs,
        data.pairs(test_positions),
        num_items=data.num_items,
        user_indices=user_indices,
        ks=ks,
        mask_train=False,
    )
    for k in ks:
        metrics[f"recall@{k}"] = ranked.metrics[f"recall@{k}"]
        metrics[f"ndcg@{k}"] = ranked.metrics[f"ndcg@{k}"]
    frame = data.frame
    if data.rating_key is not None and data.rating_key in frame:
        ratings = frame[data.rating_key].to_numpy(np.float64)
        test_users, test_items = data.pairs(test_positions)
        kept = _not_in_training(data, train_pairs, test_users, test_items)
        if kept.any():
            metrics["graded_ndcg@10"] = graded_ndcg(
                lists,
                user_indices,
                test_users[kept],
                test_items[kept],
                ratings[data.positives(test_positions)][kept],
                num_items=data.num_items,
                k=10,
            )
        liked = test_positions[ratings[test_positions] >= LIKED_RATING]
        metrics.update(subset_metrics("liked", lists, user_indices, data, train_pairs, liked, 10))
    for behaviour in BEHAVIOURS:
        if behaviour in frame:
            labelled = test_positions[frame[behaviour].to_numpy()[test_positions] > 0]
            metrics.update(
                subset_metrics(
                    behaviour, lists, user_indices, data, train_pairs, labelled, BEHAVIOUR_K
                )
            )
    return {name: value for name, value in metrics.items() if np.isfinite(value)}


def _not_in_training(
    data: ExperimentData,
    train_pairs: tuple[np.ndarray, np.ndarray],
    users: np.ndarray,
    items: np.ndarray,
) -> np.ndarray:
    train = UserItemSets.from_pairs(
        *train_pairs, num_users=data.num_users, num_items=data.num_items
    )
    return ~train.contains(users, items[:, None])[:, 0]


def subset_metrics(
    name: str,
    lists: np.ndarray,
    user_indices: np.ndarray,
    data: ExperimentData,
    train_pairs: tuple[np.ndarray, np.ndarray],
    positions: np.ndarray,
    k: int,
) -> dict[str, float]:
    """Recall@k and NDCG@k with the test rows at `positions` as the relevant items."""
    users = data.user_index[positions]
    items = data.item_index[positions]
    if not _not_in_training(data, train_pairs, users, items).any():
        return {}
    listed = np.isin(user_indices, users)
    ranked = evaluate_retrieved(
        lists[listed],
        train_pairs,
        (users, items),
        num_items=data.num_items,
        user_indices=user_indices[listed],
        ks=(k,),
        mask_train=False,
    )
    return {f"{name}_recall@{k}": ranked.metrics[f"recall@{k}"]} | (
        {} if name == "liked" else {f"{name}_ndcg@{k}": ranked.metrics[f"ndcg@{k}"]}
    )
