"""EASE's closed form (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019).

Plain numpy, used by both the EASE baseline (`tfrs_mtl.evaluation.baselines.ease`) and the
model's fixed item-item part (`tfrs_mtl.models.item_item`): neither owns the other's code.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp


def binary_gram(users: np.ndarray, items: np.ndarray, num_items: int) -> np.ndarray:
    """XᵀX of the binary user x item matrix of `(users, items)` index pairs (a repeated
    pair counts once), `[num_items, num_items]` float64. X stays sparse: the only dense
    array is the result."""
    users = np.asarray(users, np.int64)
    items = np.asarray(items, np.int64)
    keys = np.unique(users * num_items + items)
    users, items = keys // num_items, keys % num_items
    if not keys.size:
        return np.zeros((num_items, num_items), dtype=np.float64)
    x = sp.csr_matrix(
        (np.ones(len(keys), np.float64), (users, items)), shape=(int(users[-1]) + 1, num_items)
    )
    return np.asarray((x.T @ x).toarray(), dtype=np.float64)


def ease_weights(gram: np.ndarray, l2: float) -> np.ndarray:
    """EASE's B = I - P · diagMat(1 / diag(P)) with P = (G + λI)⁻¹, `[num_items, num_items]`
    float32 with a zero diagonal (Steck 2019): a user's scores are `x_u B`. Inverted in
    place (LAPACK getrf/getri on one copy of G), so the peak is about two float64 matrices
    and the float32 result."""
    if l2 <= 0:
        raise ValueError(f"l2 must be positive, got {l2}")
    precision = gram.astype(np.float64, copy=True)
    precision[np.diag_indices_from(precision)] += l2
    precision = scipy.linalg.inv(precision, overwrite_a=True, check_finite=False)
    precision /= -np.diag(precision)[None, :].copy()
    np.fill_diagonal(precision, 0.0)
    return precision.astype(np.float32)
