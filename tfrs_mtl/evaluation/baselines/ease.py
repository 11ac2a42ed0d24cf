"""EASE: the closed-form linear item-item autoencoder of Steck, "Embarrassingly Shallow
Autoencoders for Sparse Data", WWW 2019.

With the binary user x item matrix X and P = (XᵀX + λI)⁻¹, the item-item weights are
B = I - P · diagMat(1 / diag(P)), so B has a zero diagonal, and a user's scores are X_u B.
The Gram matrix is `[num_items, num_items]`, so EASE suits catalogues up to a few tens of
thousands of items; X is never materialised, only dense blocks of a batch of users.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tfrs_mtl._ease import binary_gram, density_scaled_l2, ease_weights
from tfrs_mtl.evaluation.baselines.validation_grid import grid_on_validation
from tfrs_mtl.evaluation.full_ranking import Pairs, as_user_item_sets
from tfrs_mtl.evaluation.interaction_sets import UserItemSets
from tfrs_mtl.evaluation.score_source import ScoreFn

__all__ = ["EaseBaseline", "EaseSelection", "ease_weights", "gram_matrix", "select_ease"]

DEFAULT_L2_GRID: tuple[float, ...] = (10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)


def gram_matrix(interactions: UserItemSets) -> np.ndarray:
    """XᵀX of the binary interaction matrix, `[num_items, num_items]` float32."""
    return binary_gram(*interactions.pairs(), interactions.num_items)


@dataclass(frozen=True)
class EaseBaseline:
    """A fitted EASE model.

    Attributes:
        weights: `[num_items, num_items]` float32 item-item matrix B (zero diagonal).
        interactions: the training sets X whose rows are scored.
        l2: the regularization λ.

    Example:
        >>> model = EaseBaseline.fit((users, items), num_users=943, num_items=1682, l2=500.0)
        >>> scores = model.score(np.array([0, 1]))  # [2, 1682]  # doctest: +SKIP
    """

    weights: np.ndarray
    interactions: UserItemSets
    l2: float

    @classmethod
    def fit(cls, train_pairs: Pairs, *, num_users: int, num_items: int, l2: float) -> EaseBaseline:
        """Fits B on the training pairs with regularization `l2`."""
        interactions = as_user_item_sets(train_pairs, num_users, num_items)
        return cls(ease_weights(gram_matrix(interactions), l2), interactions, l2)

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        """X_u B for a batch of users, `[batch_size, num_items]` float32."""
        return np.asarray(self.interactions.sparse_block(user_indices) @ self.weights)


@dataclass(frozen=True)
class EaseSelection:
    """The outcome of choosing λ on a validation split carved from training.

    Attributes:
        model: EASE refitted on the full training pairs with `best_l2`.
        best_l2: the λ with the highest validation metric.
        validation_scores: λ -> validation metric, for every λ fitted.
        metric: the metric name (e.g. `ndcg@10`).
    """

    model: EaseBaseline
    best_l2: float
    validation_scores: dict[float, float]
    metric: str


def select_ease(
    train_pairs: tuple[np.ndarray, np.ndarray],
    *,
    num_users: int,
    num_items: int,
    l2_grid: Sequence[float] = DEFAULT_L2_GRID,
    validation_fraction: float = 0.1,
    metric: str = "ndcg@10",
    seed: int = 0,
    climb: bool = True,
    on_score: Callable[[float, float, float], None] | None = None,
) -> EaseSelection:
    """Chooses λ on a random validation split of the training pairs, then refits on all of them.

    Args:
        train_pairs: `(user_indices, item_indices)`.
        num_users: number of users.
        num_items: catalogue size.
        l2_grid: candidate λ values, ascending.
        validation_fraction: share of training pairs held out for validation.
        metric: full-ranking metric to maximise, `<name>@<K>`.
        seed: seed of the validation split.
        climb: climb along the grid from the value nearest (on a log scale) the data's own
            scale (`density_scaled_l2` of the mean number of users per interacted item)
            instead of fitting every value (`grid_on_validation`'s `start`): each fit inverts
            an items x items matrix (6 s at 10,000 items on 2 cores), and where validation
            NDCG is unimodal in λ the climb ends on the grid's best value after the start,
            its neighbours and one fit per step.
        on_score: called after each λ is fitted and scored, with λ, its validation metric
            and the seconds it took (`grid_on_validation`).
    """

    def fitted(fit_sets: UserItemSets) -> Callable[[float], ScoreFn]:
        gram = gram_matrix(fit_sets)  # once for every λ
        return lambda l2: EaseBaseline(ease_weights(gram, float(l2)), fit_sets, float(l2)).score

    grid = [float(l2) for l2 in l2_grid]
    if grid != sorted(grid):
        raise ValueError(f"l2_grid must be ascending, got {grid}")
    sets = as_user_item_sets(train_pairs, num_users, num_items)  # the refit's too
    start = None
    if climb and grid:
        interacted = np.unique(sets.indices).size
        users_per_item = sets.indices.size / interacted if interacted else 1.0
        scale = np.log(density_scaled_l2(users_per_item))
        start = min(grid, key=lambda l2: abs(np.log(l2) - scale))
    best, scores = grid_on_validation(
        train_pairs,
        grid,
        fitted,
        num_users=num_users,
        num_items=num_items,
        validation_fraction=validation_fraction,
        metric=metric,
        seed=seed,
        start=start,
        on_score=on_score,
    )
    final = EaseBaseline.fit(sets, num_users=num_users, num_items=num_items, l2=best)
    return EaseSelection(final, best, scores, metric)
