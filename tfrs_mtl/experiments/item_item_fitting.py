"""Fitting the item-item part's served weight on a validation carve-out.

The item-item part (`tfrs_mtl.layers.ItemItemPart`) adds `weight * EASE(history, item)` to the
towers' retrieval score. With `item_item_train_weight=0` (the default) the towers train
without it, so one trained model serves every weight: `fit_item_item_weight` scores the
held-out interactions by the exact full ranking (training items masked) at each weight of
`ITEM_ITEM_GRID` and returns the one with the highest NDCG@10 (the default weight where it
ties with it). Where the towers already hold
what EASE knows (the synthetic shop) that is a small weight or none; where the data are too
sparse for the towers alone (RetailRocket) it is a large one.

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
from tfrs_mtl.experiments.model_evaluation import item_embeddings, user_embeddings
from tfrs_mtl.models import MultiTaskModel

#: The served weights tried: none, then doubling from an eighth to 128 (how EASE's scores
#: compare with the towers' differs from one data set to another).
ITEM_ITEM_GRID: tuple[float, ...] = (0.0, *(2.0**e for e in range(-3, 8)))
#: The cut-off of the held-out NDCG that picks the weight.
ITEM_ITEM_CUTOFF = 10


@dataclasses.dataclass(frozen=True)
class ItemItemFit:
    """Attributes:
    weight: the chosen served weight (0: the part is left out).
    ndcg: held-out NDCG@`ITEM_ITEM_CUTOFF` of the exact ranking at each weight tried.
    """

    weight: float
    ndcg: dict[float, float]


def fit_item_item_weight(
    model: MultiTaskModel,
    data: ExperimentData,
    fit_positions: np.ndarray,
    held_out: np.ndarray,
    grid: Sequence[float] = ITEM_ITEM_GRID,
    default: float = DEFAULT_ITEM_ITEM_WEIGHT,
) -> ItemItemFit:
    """The served weight of `model`'s item-item part that ranks `held_out` best.

    Args:
        model: trained on `fit_positions` only, with an item-item part (`model.item_item`).
        data: the experiment data, its split state fitted on `fit_positions`.
        fit_positions: the rows the model trained on; their items are masked.
        held_out: the rows to rank (every held-out interaction, relevance 1).
        grid: the weights tried.
        default: the weight kept when it ties with the best (a carve-out too small to tell
            the weights apart scores them all alike); other ties go to the smaller weight.

    Raises:
        ValueError: the model has no item-item part, or `grid` is empty or holds a
            negative weight.
    """
    part = model.item_item
    if part is None:
        raise ValueError("fit_item_item_weight: the model has no item-item part")
    if not grid or min(grid) < 0:
        raise ValueError(f"fit_item_item_weight: grid must be non-empty and >= 0, got {grid}")
    width = model.query_tower.embedding_width
    # One side at a time, so that at most one full retrieval embedding (users or items x
    # (width + the part's one column per table row)) is held with the arrays kept.
    query = user_embeddings(data, model, fit_positions)
    query_towers = np.ascontiguousarray(query[:, :width])
    # The query's part columns are the history's multi-hot times the served weight.
    history = scipy.sparse.csr_matrix(query[:, width:] > 0, dtype=np.float32)
    del query
    items = item_embeddings(data, model)
    item_towers_t = np.ascontiguousarray(items[:, :width].T)
    matrix_t = np.ascontiguousarray(items[:, width:].T)
    del items

    def scores_at(weight: float) -> Callable[[np.ndarray], np.ndarray]:
        def score(users: np.ndarray) -> np.ndarray:
            block = query_towers[users] @ item_towers_t
            if weight:
                block += weight * (history[users] @ matrix_t)
            return block

        return score

    train_pairs, held_pairs = data.pairs(fit_positions), data.pairs(held_out)
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
    best = max(found, key=lambda weight: (found[weight], -weight))
    if found.get(float(default)) == found[best]:
        best = float(default)
    return ItemItemFit(best, found)
