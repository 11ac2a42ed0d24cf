"""`index_recall`: how much of the exact top-k an approximate index (ScaNN) returns."""

from __future__ import annotations

import numpy as np


def index_recall(approx_ids: object, exact_ids: object) -> float:
    """Mean over queries of |approximate top-k ∩ exact top-k| / k.

    Args:
        approx_ids: `[num_queries, k]` ids from the approximate index; `-1` pads missing ids.
        exact_ids: `[num_queries, k]` ids from exact (brute-force) search.

    Returns:
        Recall of the index against exact search, in [0, 1].

    Example:
        >>> index_recall([[1, 2], [3, 4]], [[2, 1], [3, 5]])
        0.75
    """
    approx = np.asarray(approx_ids, dtype=np.int64)
    exact = np.asarray(exact_ids, dtype=np.int64)
    if approx.ndim != 2 or exact.ndim != 2 or approx.shape[0] != exact.shape[0]:
        raise ValueError(
            f"expected [num_queries, k] arrays with the same rows, got {approx.shape} and "
            f"{exact.shape}"
        )
    if exact.size == 0:
        raise ValueError("exact_ids is empty")
    if exact.min() < 0:
        raise ValueError("exact_ids must not contain padding (negative ids)")
    k = exact.shape[1]
    # Row-qualified keys make one vectorized set intersection over all queries.
    width = int(max(approx.max(initial=0), exact.max())) + 1
    rows = np.arange(exact.shape[0], dtype=np.int64)[:, None]
    exact_keys = np.unique(rows * width + exact)
    approx_keys = np.unique((rows * width + approx)[approx >= 0])
    found = np.isin(approx_keys, exact_keys, assume_unique=True).sum()
    return float(found / (exact.shape[0] * k))
