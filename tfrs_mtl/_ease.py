"""EASE's closed form (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019).

Plain numpy, used by both the EASE baseline (`tfrs_mtl.evaluation.baselines.ease`) and the
model's fixed item-item part (`tfrs_mtl.models.item_item`): neither owns the other's code.
"""

from __future__ import annotations

import itertools

import numpy as np

#: Users per dense block of the binary matrix while the Gram matrix is summed.
_GRAM_BLOCK_CELLS = 1 << 24


def binary_gram(users: np.ndarray, items: np.ndarray, num_items: int) -> np.ndarray:
    """XᵀX of the binary user x item matrix of `(users, items)` index pairs (a repeated
    pair counts once), `[num_items, num_items]` float64; X is built in dense blocks of
    users, never whole."""
    users = np.asarray(users, np.int64)
    items = np.asarray(items, np.int64)
    keys = np.unique(users * num_items + items)
    users, items = keys // num_items, keys % num_items
    gram = np.zeros((num_items, num_items), dtype=np.float64)
    if not keys.size:
        return gram
    block = max(1, _GRAM_BLOCK_CELLS // max(num_items, 1))
    bounds = np.searchsorted(users, np.arange(0, int(users[-1]) + block + 1, block))
    for start, stop in itertools.pairwise(bounds):
        if start == stop:
            continue
        local = users[start:stop] - users[start]
        x = np.zeros((int(local[-1]) + 1, num_items), dtype=np.float64)
        x[local, items[start:stop]] = 1.0
        gram += x.T @ x
    return gram


def ease_weights(gram: np.ndarray, l2: float) -> np.ndarray:
    """EASE's B = I - P · diagMat(1 / diag(P)) with P = (G + λI)⁻¹, `[num_items, num_items]`
    float32 with a zero diagonal (Steck 2019): a user's scores are `x_u B`."""
    if l2 <= 0:
        raise ValueError(f"l2 must be positive, got {l2}")
    regularized = gram.copy()
    regularized[np.diag_indices_from(regularized)] += l2
    precision = np.linalg.inv(regularized)
    weights = -precision / np.diag(precision)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)
