"""`UserItemSets`: the items of each user, held compressed (CSR) for vectorized evaluation.

Evaluation at catalogue scale (100k users x 50k items) never holds a dense user x item
matrix: it asks for dense boolean or sparse blocks of a batch of users, or for membership of
a `[batch_size, k]` block of item ids, all computed with array operations only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp


def _as_index_array(name: str, values: object, upper: int) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of indices, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name}: expected integer indices, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    if array.size and (array.min() < 0 or array.max() >= upper):
        bad = array[(array < 0) | (array >= upper)][0]
        raise ValueError(f"{name}: index {bad} is outside [0, {upper})")
    return array


@dataclass(frozen=True)
class UserItemSets:
    """The set of items of every user (duplicates removed), in compressed sparse rows.

    Attributes:
        indptr: `[num_users + 1]` int64; the items of user `u` are
            `indices[indptr[u]:indptr[u + 1]]`, sorted ascending.
        indices: `[num_pairs]` int64 item indices.
        num_users: number of rows (users).
        num_items: size of the catalogue.

    Example:
        >>> sets = UserItemSets.from_pairs([0, 0, 1], [2, 0, 2], num_users=2, num_items=3)
        >>> sets.counts().tolist()
        [2, 1]
    """

    indptr: np.ndarray
    indices: np.ndarray
    num_users: int
    num_items: int

    @classmethod
    def from_pairs(
        cls,
        user_indices: object,
        item_indices: object,
        *,
        num_users: int,
        num_items: int,
    ) -> UserItemSets:
        """Builds the sets from `(user, item)` index pairs `[num_pairs]` each."""
        users = _as_index_array("user_indices", user_indices, num_users)
        items = _as_index_array("item_indices", item_indices, num_items)
        if users.shape != items.shape:
            raise ValueError(
                f"user_indices has {users.size} entries but item_indices has {items.size}"
            )
        keys = np.unique(users * num_items + items)
        rows = keys // num_items
        indptr = np.zeros(num_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=num_users), out=indptr[1:])
        return cls(indptr, keys % num_items, num_users, num_items)

    def counts(self) -> np.ndarray:
        """Number of distinct items of every user, `[num_users]` int64."""
        return np.diff(self.indptr)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct `(user_indices, item_indices)` pairs, sorted by user then item."""
        users = np.repeat(np.arange(self.num_users, dtype=np.int64), self.counts())
        return users, self.indices

    @cached_property
    def _sorted_keys(self) -> np.ndarray:
        users, items = self.pairs()
        return users * self.num_items + items

    def _rows_of(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions `(row_in_batch, item)` of every item of `users`, `[n]` each."""
        starts = self.indptr[users]
        lengths = self.indptr[users + 1] - starts
        rows = np.repeat(np.arange(users.size, dtype=np.int64), lengths)
        # Offset of each entry inside its own row: a global arange minus its row's start.
        row_starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        offsets = np.arange(rows.size, dtype=np.int64) - row_starts
        return rows, self.indices[np.repeat(starts, lengths) + offsets]

    def dense_block(self, users: object) -> np.ndarray:
        """Dense membership of a batch of users, `[batch_size, num_items]` bool."""
        users = _as_index_array("users", users, self.num_users)
        block = np.zeros((users.size, self.num_items), dtype=bool)
        rows, items = self._rows_of(users)
        block[rows, items] = True
        return block

    def sparse_block(self, users: object) -> sp.csr_matrix:
        """Membership of a batch of users as a `[batch_size, num_items]` float32 CSR matrix of
        ones: a product with a dense `[num_items, n]` matrix then costs the users' items, not
        the catalogue, per row."""
        users = _as_index_array("users", users, self.num_users)
        lengths = self.indptr[users + 1] - self.indptr[users]
        indptr = np.zeros(users.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        _, items = self._rows_of(users)
        ones = np.ones(items.size, dtype=np.float32)
        return sp.csr_matrix((ones, items, indptr), shape=(users.size, self.num_items))

    def contains(self, users: object, item_ids: np.ndarray) -> np.ndarray:
        """Whether `item_ids[b, j]` belongs to user `users[b]`.

        Args:
            users: `[batch_size]` user indices.
            item_ids: `[batch_size, k]` item ids; negative ids (padding) are never members.

        Returns:
            `[batch_size, k]` bool.
        """
        users = _as_index_array("users", users, self.num_users)
        item_ids = np.asarray(item_ids, dtype=np.int64)
        keys = users[:, None] * self.num_items + item_ids
        all_keys = self._sorted_keys
        if all_keys.size == 0:
            return np.zeros(item_ids.shape, dtype=bool)
        positions = np.searchsorted(all_keys, keys).clip(max=all_keys.size - 1)
        found = all_keys[positions] == keys
        return found & (item_ids >= 0) & (item_ids < self.num_items)


def encode_pairs(
    user_ids: object, item_ids: object, user_vocabulary: object, item_vocabulary: object
) -> tuple[np.ndarray, np.ndarray]:
    """Maps raw `(user_id, item_id)` values to row indices of the two vocabularies.

    Args:
        user_ids: `[n]` raw user ids (e.g. a frame's `user_id` column).
        item_ids: `[n]` raw item ids.
        user_vocabulary: `[num_users]` distinct user ids; index = row of the query embeddings.
        item_vocabulary: `[num_items]` distinct item ids; index = row of the item embeddings.

    Returns:
        `(user_indices [n], item_indices [n])` int64.

    Raises:
        ValueError: naming the first id missing from its vocabulary.
    """
    encoded = []
    for kind, values, vocabulary in (
        ("user", user_ids, user_vocabulary),
        ("item", item_ids, item_vocabulary),
    ):
        index = pd.Index(np.asarray(vocabulary))
        if not index.is_unique:
            raise ValueError(f"the {kind} vocabulary has duplicate ids")
        positions = index.get_indexer(np.asarray(values))
        if (positions < 0).any():
            missing = np.asarray(values)[positions < 0][0].item()
            raise ValueError(f"{kind} id {missing!r} is not in the {kind} vocabulary")
        encoded.append(positions.astype(np.int64))
    return encoded[0], encoded[1]
