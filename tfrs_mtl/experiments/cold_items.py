"""Cold items (`ExperimentConfig.cold_items`): items the model never trained on, scored on
how well they are retrieved and served from their attributes alone.

For every split, `pick_cold_items` draws a seeded share of the training catalogue's items
(uniformly over items, so mostly long-tail ones, as new products are) and every training
row of theirs is removed; their test rows stay. The model's vocabularies, catalogue,
histories and every baseline are fitted on what is left, so a cold item's id is unknown
to the model (its OOV row) and the candidate tower embeds it from that row and the
attributes it reads, as `Recommender.add_items` embeds a new item. The run's index serves
every item, cold ones included.

`ranking_metrics_over_cold_items` and the served lists score, over the test interactions
with cold items:

* `recall@20`, `ndcg@20`: each user with such an interaction ranks the cold items alone by
  the model's retrieval score (exact, the towers' dot product): is a new item that the
  user goes on to take found among the new items offered?
* `served_recall@20`, `served_ndcg@20`: the same interactions found in what `recommend`
  serves (the whole catalogue, stage 2's blend, training items excluded).
* `served_share@10`: the share of every test user's served top 10 that is cold items.
* `warm_served_recall@10`, `warm_served_ndcg@10`: the served lists scored on the test
  interactions with warm items alone: what serving new items costs the others.

`category_popularity_metrics` is the baseline of the same run: a cold item scores the
share of the user's training positives in its category (genres: the mean over its
genres), each user's profile smoothed by one pseudo-positive spread over the catalogue's
category distribution, so categories a user never took rank by their popularity. It has
no popularity of the cold item itself, which nothing observed in training gives.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tfrs_mtl.data import to_feature_arrays
from tfrs_mtl.evaluation import retrieval_metrics

if TYPE_CHECKING:
    from tfrs_mtl.experiments.experiment_data import ExperimentData

#: The metrics' group (`cold_items/recall@20`, `baselines/category_popularity/cold_items/...`).
COLD_GROUP = "cold_items"
#: The baseline's name.
CATEGORY_POPULARITY = "category_popularity"
#: The cut-off of the recall and NDCG of cold items.
COLD_K = 20
#: The served list cut-off of `served_share`.
SHARE_K = 10
#: Stream offset of the cold-item draw from the run's seed.
_SEED_OFFSET = 104_729
#: Seeds the order in which cold items scored alike are ranked.
_TIE_SEED = 0


@dataclasses.dataclass(frozen=True, eq=False)
class ColdItems:
    """The cold items of one split.

    Attributes:
        share: `ExperimentConfig.cold_items`.
        items: `[num_cold]` item indices, sorted.
        is_cold: `[num_items]` bool over every item of the data.
    """

    share: float
    items: np.ndarray
    is_cold: np.ndarray


def pick_cold_items(
    data: ExperimentData, train_positions: np.ndarray, share: float, seed: int
) -> ColdItems:
    """A seeded `share` (at least one item, at most all but one) of the items with training
    rows among `train_positions`, drawn uniformly over items."""
    catalogue = np.unique(data.item_index[train_positions])
    count = min(max(1, round(share * len(catalogue))), len(catalogue) - 1)
    rng = np.random.default_rng(seed + _SEED_OFFSET)
    items = np.sort(rng.choice(catalogue, size=count, replace=False))
    is_cold = np.zeros(data.num_items, dtype=bool)
    is_cold[items] = True
    return ColdItems(share, items, is_cold)


def cold_rows(data: ExperimentData, positions: np.ndarray, cold: ColdItems) -> np.ndarray:
    """`[len(positions)]` bool: the rows at `positions` of cold items."""
    return cold.is_cold[data.item_index[positions]]


def cold_test_pairs(
    data: ExperimentData, test_positions: np.ndarray, cold: ColdItems
) -> tuple[np.ndarray, np.ndarray]:
    """`(user_indices, columns)`: the test positives with cold items, each item as its
    column among `cold.items`."""
    users, items = data.pairs(test_positions)
    keep = cold.is_cold[items]
    return users[keep], np.searchsorted(cold.items, items[keep])


def ranking_metrics_over_cold_items(
    query: np.ndarray,
    items: np.ndarray,
    data: ExperimentData,
    test_positions: np.ndarray,
    cold: ColdItems,
) -> dict[str, float]:
    """`recall@20` and `ndcg@20` of the cold test interactions, the cold items alone ranked
    by `query [num_users, dim] . items[cold.items] [num_cold, dim]` (nothing masked: no
    cold item has a training row), items scored alike in a seeded random order. Empty
    without a cold test interaction."""
    users, columns = cold_test_pairs(data, test_positions, cold)
    if not len(users):
        return {}
    # Items scored alike (the same attributes) are ranked in a seeded random order, not by
    # item index: indices follow first appearance in the data, so they carry popularity.
    order = np.random.default_rng(_TIE_SEED).permutation(len(cold.items))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    empty = np.zeros(0, np.int64)
    result = retrieval_metrics(
        (np.asarray(query, np.float32), np.asarray(items, np.float32)[cold.items[order]]),
        (empty, empty),
        (users, position[columns]),
        num_users=data.num_users,
        num_items=len(cold.items),
        ks=(COLD_K,),
    )
    return {name: result.metrics[name] for name in (f"recall@{COLD_K}", f"ndcg@{COLD_K}")}


def served_share(lists: np.ndarray, cold: ColdItems, k: int = SHARE_K) -> float:
    """The share of the listed items (`[num_users, >= k]` item indices, -1 padding) in the
    first `k` places that are cold."""
    top = np.asarray(lists)[:, :k]
    listed = top >= 0
    if not listed.any():
        return 0.0
    return float(cold.is_cold[top[listed]].mean())


def item_class_matrix(data: ExperimentData, column: str) -> np.ndarray:
    """`[num_items, num_classes]` each item's classes in `column` (its first row), a row
    summing to 1 over them (genres share it; one category holds it all; none: zeros)."""
    _, first = np.unique(data.item_index, return_index=True)
    values = to_feature_arrays(data.frame.iloc[first][[column]], pad_value=-1)[column]
    values = values.reshape(len(first), -1)
    if values.dtype.kind in "iu":
        present = values >= 0
    else:
        values = values.astype(str)
        present = (values != "") & (values != "-1")
    classes = np.unique(values[present])
    if not len(classes):
        return np.zeros((data.num_items, 0), np.float64)
    codes = np.where(present, np.searchsorted(classes, np.where(present, values, classes[0])), -1)
    matrix = np.zeros((data.num_items, len(classes)), np.float64)
    rows = np.repeat(data.item_index[first], codes.shape[1]).reshape(codes.shape)
    np.add.at(matrix, (rows[codes >= 0], codes[codes >= 0]), 1.0)
    counts = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, counts, out=np.zeros_like(matrix), where=counts > 0)


def category_profiles(
    data: ExperimentData, train_positions: np.ndarray, classes: np.ndarray
) -> np.ndarray:
    """`[num_users, num_classes]` each user's category distribution over their training
    positives, smoothed by one pseudo-positive spread over all training positives'
    distribution (`classes`: `item_class_matrix`)."""
    users, items = data.pairs(train_positions)
    counts = pd.DataFrame(classes[items]).groupby(users).sum()
    profile = np.zeros((data.num_users, classes.shape[1]), np.float64)
    profile[counts.index.to_numpy()] = counts.to_numpy()
    overall = profile.sum(axis=0)
    overall = overall / max(overall.sum(), 1e-12)
    return (profile + overall) / (profile.sum(axis=1, keepdims=True) + 1.0)


def category_popularity_metrics(
    data: ExperimentData,
    train_positions: np.ndarray,
    test_positions: np.ndarray,
    cold: ColdItems,
    column: str,
) -> dict[str, float]:
    """The baseline's `recall@20` and `ndcg@20` over the cold items (see the module
    docstring), ranked like `ranking_metrics_over_cold_items`."""
    classes = item_class_matrix(data, column)
    if not classes.shape[1]:
        return {}
    profiles = category_profiles(data, train_positions, classes)
    return ranking_metrics_over_cold_items(profiles, classes, data, test_positions, cold)


def cold_summary(data: ExperimentData, test_positions: np.ndarray, cold: ColdItems) -> dict:
    """`num_items` (cold) and `num_test_interactions` (test positives with them)."""
    users, _ = cold_test_pairs(data, test_positions, cold)
    return {"num_items": float(len(cold.items)), "num_test_interactions": float(len(users))}
