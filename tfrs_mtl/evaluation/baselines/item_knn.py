"""Item-kNN: each item's most co-consumed neighbours, scored by cosine similarity.

With the binary user x item matrix X, the similarity of items i and j is
`|U_i ∩ U_j| / (sqrt(|U_i| |U_j|) + shrink)` (cosine with a shrinkage term that discounts
pairs seen by few users; Sarwar et al., WWW 2001; Koren, KDD 2008), kept for each item's
`neighbours` most similar items only. A user's score of item j is the sum of the
similarities to j of the items in their history. Everything is sparse (`scipy.sparse`), so
the baseline fits catalogues far beyond EASE's dense items x items inverse. The neighbourhood
size is chosen on a validation carve-out of the training pairs (`select_item_knn`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from tfrs_mtl.evaluation.baselines.validation_grid import grid_on_validation
from tfrs_mtl.evaluation.full_ranking import Pairs, as_user_item_sets
from tfrs_mtl.evaluation.interaction_sets import UserItemSets
from tfrs_mtl.evaluation.score_source import ScoreFn

DEFAULT_NEIGHBOURS_GRID: tuple[int, ...] = (20, 50, 100, 200, 500)
#: The cosine's shrinkage (pseudo-users in the denominator).
SHRINK = 10.0


def knn_similarities(
    interactions: UserItemSets, neighbours: int, shrink: float = SHRINK
) -> sp.csr_matrix:
    """`[num_items, num_items]` sparse: row j keeps the `neighbours` items most similar to
    item j (shrunk cosine, zero diagonal); column j of the result scores item j."""
    users, items = interactions.pairs()
    matrix = sp.csr_matrix(
        (np.ones(len(users), np.float32), (users, items)),
        shape=(interactions.num_users, interactions.num_items),
    )
    matrix.data[:] = 1.0  # binary, whatever the repeats
    co_counts = (matrix.T @ matrix).tocsr().astype(np.float32)
    co_counts.setdiag(0.0)
    co_counts.eliminate_zeros()
    norms = np.sqrt(np.asarray(matrix.sum(axis=0)).ravel()).astype(np.float32)
    rows = np.repeat(np.arange(co_counts.shape[0]), np.diff(co_counts.indptr))
    co_counts.data /= norms[rows] * norms[co_counts.indices] + shrink
    return _top_per_row(co_counts, neighbours)


def _top_per_row(matrix: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """The `keep` largest entries of every row of `matrix` (ties: the lower column)."""
    indptr, data, indices = matrix.indptr, matrix.data, matrix.indices
    kept_rows, kept_cols, kept_values = [], [], []
    for row in range(matrix.shape[0]):
        start, end = indptr[row], indptr[row + 1]
        if start == end:
            continue
        values = data[start:end]
        if end - start > keep:
            top = np.argpartition(-values, keep - 1)[:keep]
        else:
            top = np.arange(end - start)
        kept_rows.append(np.full(len(top), row))
        kept_cols.append(indices[start:end][top])
        kept_values.append(values[top])
    if not kept_rows:
        return sp.csr_matrix(matrix.shape, dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(kept_values), (np.concatenate(kept_rows), np.concatenate(kept_cols))),
        shape=matrix.shape,
    )


@dataclass(frozen=True)
class ItemKnnBaseline:
    """A fitted item-kNN model.

    Attributes:
        similarities: `[num_items, num_items]` sparse, row i: item i's neighbours.
        interactions: the training sets whose rows are scored.
        neighbours: the neighbourhood size.

    Example:
        >>> model = ItemKnnBaseline.fit((users, items), num_users=943, num_items=1682)
        >>> scores = model.score(np.array([0, 1]))  # [2, 1682]  # doctest: +SKIP
    """

    similarities: sp.csr_matrix
    interactions: UserItemSets
    neighbours: int

    @classmethod
    def fit(
        cls, train_pairs: Pairs, *, num_users: int, num_items: int, neighbours: int = 100
    ) -> ItemKnnBaseline:
        """Keeps each item's `neighbours` most similar items over the training pairs."""
        if neighbours < 1:
            raise ValueError(f"neighbours={neighbours} must be >= 1")
        interactions = as_user_item_sets(train_pairs, num_users, num_items)
        return cls(knn_similarities(interactions, neighbours), interactions, neighbours)

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        """`[batch_size, num_items]` float32: the summed similarities of each user's items."""
        block = self.interactions.sparse_block(user_indices)
        return np.asarray((block @ self.similarities).todense(), dtype=np.float32)


def select_item_knn(
    train_pairs: tuple[np.ndarray, np.ndarray],
    *,
    num_users: int,
    num_items: int,
    neighbours_grid: Sequence[int] = DEFAULT_NEIGHBOURS_GRID,
    validation_fraction: float = 0.1,
    metric: str = "ndcg@10",
    seed: int = 0,
) -> ItemKnnBaseline:
    """Chooses the neighbourhood size on a random validation split of the training pairs
    (the `metric` of the full ranking, training items masked), then refits on all of them."""

    def fitted(fit_sets: UserItemSets) -> Callable[[int], ScoreFn]:
        return lambda size: ItemKnnBaseline(knn_similarities(fit_sets, size), fit_sets, size).score

    best, _ = grid_on_validation(
        train_pairs,
        list(neighbours_grid),
        fitted,
        num_users=num_users,
        num_items=num_items,
        validation_fraction=validation_fraction,
        metric=metric,
        seed=seed,
    )
    users, items = train_pairs
    return ItemKnnBaseline.fit(
        (users, items), num_users=num_users, num_items=num_items, neighbours=best
    )
