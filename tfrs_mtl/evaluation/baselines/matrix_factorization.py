"""Biased matrix factorization for ratings, fitted by alternating least squares in numpy.

rating ≈ μ + b_u + b_i + p_u · q_i (Koren, Bell and Volinsky, "Matrix Factorization
Techniques for Recommender Systems", IEEE Computer 2009). Each half-step solves every user's
(or item's) ridge regression at once: the normal matrices of a block of users are one matmul
of the block's rating mask with the items' outer products, and one batched `np.linalg.solve`.
The ridge penalty is scaled by the number of ratings (ALS-WR; Zhou et al., "Large-scale
Parallel Collaborative Filtering for the Netflix Prize", AAIM 2008).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tfrs_mtl.evaluation.score_source import iterate_batches

# Rows of a dense rating block per half-step chunk: ~16M cells.
_CELLS_PER_BLOCK = 1 << 24


def _sorted_by_row(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, num_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR `(indptr, cols, values)` of the triples grouped by row."""
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(num_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=num_rows), out=indptr[1:])
    return indptr, cols[order], values[order]


def _solve_side(
    indptr: np.ndarray,
    cols: np.ndarray,
    targets: np.ndarray,
    other_factors: np.ndarray,
    other_bias: np.ndarray,
    l2: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge-solves `[factors, bias]` of every row given the other side's factors and biases.

    `targets` are ratings minus the global mean; the other side's bias is subtracted here.
    """
    num_rows, num_cols = indptr.size - 1, other_factors.shape[0]
    features = np.hstack([other_factors, np.ones((num_cols, 1))])  # [num_cols, d + 1]
    width = features.shape[1]
    outer = (features[:, :, None] * features[:, None, :]).reshape(num_cols, width * width)
    counts = np.diff(indptr)
    solution = np.zeros((num_rows, width))
    batch_rows = max(1, _CELLS_PER_BLOCK // max(1, num_cols))
    for rows in iterate_batches(np.arange(num_rows), batch_rows):
        lengths = counts[rows]
        block_rows = np.repeat(np.arange(rows.size), lengths)
        span = slice(indptr[rows[0]], indptr[rows[-1] + 1])
        mask = np.zeros((rows.size, num_cols))
        residual = np.zeros((rows.size, num_cols))
        mask[block_rows, cols[span]] = 1.0
        residual[block_rows, cols[span]] = targets[span] - other_bias[cols[span]]
        normal = (mask @ outer).reshape(rows.size, width, width)
        normal += (l2 * np.maximum(lengths, 1))[:, None, None] * np.eye(width)
        solution[rows] = np.linalg.solve(normal, (residual @ features)[:, :, None])[:, :, 0]
    return solution[:, :-1], solution[:, -1]


@dataclass(frozen=True)
class MatrixFactorizationBaseline:
    """A fitted biased MF model.

    Attributes:
        user_factors: `[num_users, dim]` p_u.
        item_factors: `[num_items, dim]` q_i.
        user_bias: `[num_users]` b_u.
        item_bias: `[num_items]` b_i.
        global_mean: μ.
        rating_range: predictions are clipped to this `(low, high)`, or not when None.

    Example:
        >>> model = MatrixFactorizationBaseline.fit(users, items, ratings, num_users=943,
        ...     num_items=1682)  # doctest: +SKIP
        >>> model.predict_rating(test_users, test_items)  # doctest: +SKIP
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    global_mean: float
    rating_range: tuple[float, float] | None

    @classmethod
    def fit(
        cls,
        user_indices: object,
        item_indices: object,
        ratings: object,
        *,
        num_users: int,
        num_items: int,
        dim: int = 16,
        l2: float = 0.1,
        num_iterations: int = 10,
        rating_range: tuple[float, float] | None = (1.0, 5.0),
        seed: int = 0,
    ) -> MatrixFactorizationBaseline:
        """Fits by ALS from small random item factors.

        Args:
            user_indices: `[num_ratings]` user of each rating.
            item_indices: `[num_ratings]` item of each rating.
            ratings: `[num_ratings]` rating values.
            num_users: number of users.
            num_items: number of items.
            dim: factor dimension.
            l2: ridge penalty per rating.
            num_iterations: user + item half-step pairs.
            rating_range: clip predictions to `(low, high)`; None to disable.
            seed: seed of the initial item factors.
        """
        users = np.asarray(user_indices, dtype=np.int64)
        items = np.asarray(item_indices, dtype=np.int64)
        values = np.asarray(ratings, dtype=np.float64)
        if not users.shape == items.shape == values.shape:
            raise ValueError(
                f"users {users.shape}, items {items.shape} and ratings {values.shape} differ"
            )
        if users.size == 0:
            raise ValueError("no ratings to fit")
        mean = float(values.mean())
        by_user = _sorted_by_row(users, items, values - mean, num_users)
        by_item = _sorted_by_row(items, users, values - mean, num_items)
        rng = np.random.default_rng(seed)
        item_factors = rng.normal(0.0, 0.1, size=(num_items, dim))
        item_bias = np.zeros(num_items)
        user_factors, user_bias = np.zeros((num_users, dim)), np.zeros(num_users)
        for _ in range(num_iterations):
            user_factors, user_bias = _solve_side(*by_user, item_factors, item_bias, l2)
            item_factors, item_bias = _solve_side(*by_item, user_factors, user_bias, l2)
        return cls(
            user_factors.astype(np.float32),
            item_factors.astype(np.float32),
            user_bias.astype(np.float32),
            item_bias.astype(np.float32),
            mean,
            rating_range,
        )

    def predict_rating(self, user_indices: object, item_indices: object) -> np.ndarray:
        """μ + b_u + b_i + p_u · q_i for each pair, `[batch_size]` float32."""
        users = np.asarray(user_indices, dtype=np.int64)
        items = np.asarray(item_indices, dtype=np.int64)
        prediction = (
            self.global_mean
            + self.user_bias[users]
            + self.item_bias[items]
            + np.sum(self.user_factors[users] * self.item_factors[items], axis=1)
        )
        if self.rating_range is not None:
            prediction = np.clip(prediction, *self.rating_range)
        return prediction.astype(np.float32)

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        """Predicted ratings of every item for a batch of users, `[batch_size, num_items]`.

        The user's bias and μ are omitted: they do not change the user's ranking.
        """
        users = np.asarray(user_indices, dtype=np.int64)
        return self.user_factors[users] @ self.item_factors.T + self.item_bias[None, :]
