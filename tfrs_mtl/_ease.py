"""EASE's closed form (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019).

Plain numpy, used by both the EASE baseline (`tfrs_mtl.evaluation.baselines.ease`) and the
model's fixed item-item part (`tfrs_mtl.models.item_item`): neither owns the other's code.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

#: Rows mirrored at a time when the symmetric inverse's lower triangle is filled in.
_MIRROR_ROWS = 256

#: λ in units of the mean number of users per interacted item (the mean nonzero diagonal of
#: XᵀX): λ keeps its weight against the Gram matrix whatever the data's density. On
#: MovieLens-100K it gives about 500; EASE's own choice on validation splits keeps about the
#: same ratio on the shops.
L2_PER_INTERACTION = 10.0


def density_scaled_l2(users_per_item: float) -> float:
    """`L2_PER_INTERACTION` times the mean number of users per interacted item (at least 1)."""
    return L2_PER_INTERACTION * max(float(users_per_item), 1.0)


def binary_gram(users: np.ndarray, items: np.ndarray, num_items: int) -> np.ndarray:
    """XᵀX of the binary user x item matrix of `(users, items)` index pairs (a repeated
    pair counts once), `[num_items, num_items]` float32 (co-occurrence counts, exact up to
    2²⁴ users). X stays sparse: the only dense array is the result."""
    users = np.asarray(users, np.int64)
    items = np.asarray(items, np.int64)
    keys = np.unique(users * num_items + items)
    users, items = keys // num_items, keys % num_items
    if not keys.size:
        return np.zeros((num_items, num_items), dtype=np.float32)
    x = sp.csr_matrix(
        (np.ones(len(keys), np.float32), (users, items)), shape=(int(users[-1]) + 1, num_items)
    )
    return np.ascontiguousarray((x.T @ x).toarray(), dtype=np.float32)


def ease_weights(gram: np.ndarray, l2: float) -> np.ndarray:
    """EASE's B = I - P · diagMat(1 / diag(P)) with P = (G + λI)⁻¹, `[num_items, num_items]`
    float32 with a zero diagonal (Steck 2019): a user's scores are `x_u B`.

    G + λI is symmetric positive definite, so P comes from its Cholesky factor (LAPACK
    potrf/potri), in float32 and in place on one copy of G: the peak is G and that copy
    (2 x 4 bytes x items², 800 MB at 10,000 items). λ >= 1 on counts keeps the system well
    conditioned for single precision.
    """
    if l2 <= 0:
        raise ValueError(f"l2 must be positive, got {l2}")
    precision = np.array(gram, dtype=np.float32, order="C", copy=True)
    precision[np.diag_indices_from(precision)] += l2
    # G + λI is symmetric, so the C-ordered copy read in Fortran order (its transpose) is
    # the same matrix: LAPACK factors and inverts it in that memory, without a copy.
    upper = precision.T
    factor, info = scipy.linalg.lapack.spotrf(upper, lower=False, overwrite_a=True, clean=False)
    if info == 0:
        inverse, info = scipy.linalg.lapack.spotri(factor, lower=False, overwrite_c=True)
        if not np.shares_memory(inverse, precision):  # a LAPACK wrapper that copied
            precision[...] = inverse.T
    if info != 0:
        raise np.linalg.LinAlgError(
            f"EASE: G + λI is not positive definite in single precision (LAPACK info {info}, "
            f"λ={l2}); use a larger λ"
        )
    _mirror_upper(upper)
    precision /= -np.diag(precision)[None, :].copy()
    np.fill_diagonal(precision, 0.0)
    return precision


def _mirror_upper(matrix: np.ndarray) -> None:
    """Copies the upper triangle onto the lower one, in place, a block of rows at a time."""
    size = matrix.shape[0]
    for start in range(0, size, _MIRROR_ROWS):
        stop = min(start + _MIRROR_ROWS, size)
        matrix[start:stop, :start] = matrix[:start, start:stop].T
        block = matrix[start:stop, start:stop]
        lower = np.tril_indices(stop - start, -1)
        block[lower] = block.T[lower]
