"""Where full-catalogue scores come from: a scorer function or a pair of embedding matrices.

Every full-ranking evaluation asks one question of a model: the scores of a batch of users
against the whole catalogue, `[batch_size, num_items]`. A two-tower model answers with
`query_embeddings[users] @ item_embeddings.T`; EASE, popularity or matrix factorization answer
with their own `score_fn(user_indices)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

ScoreFn = Callable[[np.ndarray], np.ndarray]
"""`score_fn(user_indices [batch_size]) -> scores [batch_size, num_items]`."""

ScoreSource = ScoreFn | tuple[np.ndarray, np.ndarray]
"""A `ScoreFn`, or `(query_embeddings [num_users, dim], item_embeddings [num_items, dim])`."""

# A score block of this many cells is ~64 MB in float32: big enough to amortise the matmul
# and top-k calls, small enough for several engineers' jobs on one machine.
_CELLS_PER_BLOCK = 1 << 24


def default_batch_size(num_items: int) -> int:
    """Users per score block so that a `[batch_size, num_items]` block holds ~16M cells."""
    return max(1, _CELLS_PER_BLOCK // max(1, num_items))


def as_score_fn(source: ScoreSource, num_items: int | None) -> tuple[ScoreFn, int]:
    """Normalises a `ScoreSource` to `(score_fn, num_items)`.

    Args:
        source: a scorer, or `(query_embeddings [num_users, dim], item_embeddings
            [num_items, dim])`; scores are then inner products in float32.
        num_items: catalogue size; required for a scorer, checked against embeddings.

    Raises:
        ValueError: when `num_items` is missing for a scorer or disagrees with the embeddings.
    """
    if isinstance(source, tuple):
        query_embeddings = np.asarray(source[0], dtype=np.float32)
        item_embeddings = np.asarray(source[1], dtype=np.float32)
        if query_embeddings.ndim != 2 or item_embeddings.ndim != 2:
            raise ValueError(
                "embeddings must be [num_users, dim] and [num_items, dim], got shapes "
                f"{query_embeddings.shape} and {item_embeddings.shape}"
            )
        if query_embeddings.shape[1] != item_embeddings.shape[1]:
            raise ValueError(
                f"query dim {query_embeddings.shape[1]} != item dim {item_embeddings.shape[1]}"
            )
        if num_items is not None and num_items != item_embeddings.shape[0]:
            raise ValueError(
                f"num_items={num_items} but item_embeddings has {item_embeddings.shape[0]} rows"
            )
        item_embeddings_t = np.ascontiguousarray(item_embeddings.T)

        def score_fn(users: np.ndarray) -> np.ndarray:
            return query_embeddings[users] @ item_embeddings_t

        return score_fn, item_embeddings.shape[0]
    if not callable(source):
        raise TypeError(f"expected a score_fn or (query, item) embeddings, got {type(source)}")
    if num_items is None:
        raise ValueError("num_items is required when scores come from a score_fn")
    return source, num_items


def score_block(score_fn: ScoreFn, users: np.ndarray, num_items: int) -> np.ndarray:
    """Calls `score_fn` and checks its answer is `[len(users), num_items]`; float32 copy."""
    scores = np.array(score_fn(users), dtype=np.float32, copy=True)
    if scores.shape != (users.size, num_items):
        raise ValueError(
            f"score_fn returned shape {scores.shape} for {users.size} users; "
            f"expected ({users.size}, {num_items})"
        )
    return scores


def iterate_batches(values: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Consecutive slices of `values` of at most `batch_size` entries."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    for start in range(0, values.size, batch_size):
        yield values[start : start + batch_size]


def top_k_ids(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-`k` items of every row, best first; ties go to the lower item index.

    `tf.math.top_k` is used because its tie order is documented (lower index first), so
    results do not depend on the partition algorithm. Rows with fewer than `k` finite
    scores (masked items are `-inf`) are padded with id `-1`.

    Args:
        scores: `[batch_size, num_items]` float32.
        k: how many items per row.

    Returns:
        `(values [batch_size, k] float32, ids [batch_size, k] int64)`.
    """
    import tensorflow as tf

    num_items = scores.shape[1]
    values, ids = tf.math.top_k(scores, k=min(k, num_items), sorted=True)
    values, ids = values.numpy(), ids.numpy().astype(np.int64)
    ids[np.isneginf(values)] = -1
    if k > num_items:
        pad = k - num_items
        values = np.pad(values, ((0, 0), (0, pad)), constant_values=-np.inf)
        ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
    return values, ids
