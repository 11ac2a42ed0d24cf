"""Fitting the item-item part's served weight on a validation carve-out.

The item-item part (`tfrs_mtl.layers.ItemItemPart`) adds `weight * EASE(history, item)` to the
towers' retrieval score. With `item_item_train_weight=0` (the default) the towers train
without it, so one trained model serves every weight: `fit_item_item_weight` scores the
held-out interactions by the exact full ranking (training items masked) at each weight of
`ITEM_ITEM_GRID` and returns the one with the highest NDCG@10 (the default weight where it
ties with it). Where the towers already hold
what EASE knows (the synthetic shop) that is a small weight or none; where the data are too
sparse for the towers alone (RetailRocket) it is a large one.

Where the users' histories are ordered by time (the data have timestamps), the part's
recency (`ItemItemPart.recency`) is fitted with the weight, every pair of `RECENCY_GRID` and
`ITEM_ITEM_GRID` scored: on a split by time the latest items predict the next ones (a large
recency wins), on a random split they tell little more than the others (0 or a small one).

The towers' and the part's scores are computed apart (the part's as a sparse history times
the item-item matrix), so trying a weight costs one ranking pass, not a new model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse

from tfrs_mtl.evaluation import evaluate_full_ranking
from tfrs_mtl.experiments.experiment_config import DEFAULT_ITEM_ITEM_WEIGHT
from tfrs_mtl.experiments.experiment_data import ExperimentData
from tfrs_mtl.experiments.model_evaluation import item_embeddings, user_embeddings, user_table
from tfrs_mtl.layers.item_item_part import ItemItemPart
from tfrs_mtl.models import MultiTaskModel

#: The served weights tried: none, then doubling from an eighth to 128 (how EASE's scores
#: compare with the towers' differs from one data set to another).
ITEM_ITEM_GRID: tuple[float, ...] = (0.0, *(2.0**e for e in range(-3, 8)))
#: The recencies tried where histories are ordered by time: 0 (every item alike), then
#: steeper (1: the latest item weighs 1, the one before it 1/2, then 1/3, ...).
RECENCY_GRID: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
#: The cut-off of the held-out NDCG that picks the weight.
ITEM_ITEM_CUTOFF = 10
#: Users whose history weights are computed at a time.
BATCH = 1024


@dataclasses.dataclass(frozen=True)
class ItemItemFit:
    """Attributes:
    weight: the chosen served weight (0: the part is left out).
    ndcg: held-out NDCG@`ITEM_ITEM_CUTOFF` of the exact ranking at each weight tried, at
        the chosen recency.
    recency: the chosen recency (0 where histories are not ordered by time).
    recency_ndcg: the best held-out NDCG over the weights at each recency tried.
    """

    weight: float
    ndcg: dict[float, float]
    recency: float = 0.0
    recency_ndcg: dict[float, float] = dataclasses.field(default_factory=dict)


def fit_item_item_weight(
    model: MultiTaskModel,
    data: ExperimentData,
    fit_positions: np.ndarray,
    held_out: np.ndarray,
    grid: Sequence[float] = ITEM_ITEM_GRID,
    default: float = DEFAULT_ITEM_ITEM_WEIGHT,
    recency_grid: Sequence[float] | None = None,
) -> ItemItemFit:
    """The served weight (and recency) of `model`'s item-item part that ranks `held_out`
    best.

    Args:
        model: trained on `fit_positions` only, with an item-item part (`model.item_item`).
        data: the experiment data, its split state fitted on `fit_positions`.
        fit_positions: the rows the model trained on; their items are masked.
        held_out: the rows to rank (every held-out interaction, relevance 1).
        grid: the weights tried.
        default: the weight kept when it ties with the best (a carve-out too small to tell
            the weights apart scores them all alike); other ties go to the smaller weight.
        recency_grid: the recencies tried; None: `RECENCY_GRID` where `data`'s histories
            are ordered by time, else 0 alone. Ties go to the smaller recency.

    Raises:
        ValueError: the model has no item-item part, or a grid is empty or holds a
            negative value.
    """
    part = model.item_item
    if part is None:
        raise ValueError("fit_item_item_weight: the model has no item-item part")
    if recency_grid is None:
        ordered = data.histories is not None and data.histories.by_time is not None
        recency_grid = RECENCY_GRID if ordered else (0.0,)
    for name, values in (("grid", grid), ("recency_grid", recency_grid)):
        if not values or min(values) < 0:
            raise ValueError(
                f"fit_item_item_weight: {name} must be non-empty and >= 0, got {values}"
            )
    width = model.query_tower.embedding_width
    users = user_table(data, model, fit_positions)
    query = user_embeddings(data, model, fit_positions, users)
    query_towers = np.ascontiguousarray(query[:, :width])
    del query
    items = item_embeddings(data, model)
    item_towers_t = np.ascontiguousarray(items[:, :width].T)
    matrix_t = np.ascontiguousarray(items[:, width:].T)
    del items
    train_pairs, held_pairs = data.pairs(fit_positions), data.pairs(held_out)
    kept = part.recency
    by_recency: dict[float, dict[float, float]] = {}
    try:
        for recency in sorted(float(r) for r in recency_grid):
            part.recency = recency
            history = _history_weights(part, users)
            by_recency[recency] = _ndcg_by_weight(
                query_towers,
                item_towers_t,
                matrix_t,
                history,
                data,
                train_pairs,
                held_pairs,
                grid,
            )
    finally:
        part.recency = kept
    best_of = {recency: max(found.values()) for recency, found in by_recency.items()}
    recency = max(best_of, key=lambda value: (best_of[value], -value))
    found = by_recency[recency]
    best = max(found, key=lambda weight: (found[weight], -weight))
    if found.get(float(default)) == found[best]:
        best = float(default)
    return ItemItemFit(best, found, recency, best_of)


def _history_weights(part: ItemItemPart, users: dict[str, np.ndarray]) -> scipy.sparse.csr_matrix:
    """`[num_users, part.width]` sparse: the part's `history_weights` of every user."""
    histories = users[part.history_feature]
    blocks = [
        scipy.sparse.csr_matrix(
            part.history_weights({part.history_feature: histories[start : start + BATCH]}).numpy()
        )
        for start in range(0, len(histories), BATCH)
    ]
    return scipy.sparse.vstack(blocks, format="csr", dtype=np.float32)


def _ndcg_by_weight(
    query_towers: np.ndarray,
    item_towers_t: np.ndarray,
    matrix_t: np.ndarray,
    history: scipy.sparse.csr_matrix,
    data: ExperimentData,
    train_pairs: tuple[np.ndarray, np.ndarray],
    held_pairs: tuple[np.ndarray, np.ndarray],
    grid: Sequence[float],
) -> dict[float, float]:
    def scores_at(weight: float) -> Callable[[np.ndarray], np.ndarray]:
        def score(users: np.ndarray) -> np.ndarray:
            block = query_towers[users] @ item_towers_t
            if weight:
                block += weight * (history[users] @ matrix_t)
            return block

        return score

    found: dict[float, float] = {}
    for weight in sorted(float(w) for w in grid):
        result = evaluate_full_ranking(
            scores_at(weight),
            train_pairs,
            held_pairs,
            num_users=data.num_users,
            num_items=data.num_items,
            ks=(ITEM_ITEM_CUTOFF,),
        )
        found[weight] = float(result.metrics[f"ndcg@{ITEM_ITEM_CUTOFF}"])
    return found
