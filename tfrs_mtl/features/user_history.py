"""The `user_history` query feature: the items a user interacted with in training.

The query tower reads the user's training items through the candidate id table (shared
with the candidate tower), so a user is embedded by what they chose: item-item structure as
in EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019) and the
implicit feedback of SVD++ (Koren, "Factorization Meets the Neighborhood", KDD 2008) for the
rating head. Users unseen by the id table still get a representation from their history.

Leakage rules, enforced by `UserHistories`:
- the histories are fitted on training rows only, so no evaluation item is ever in a history;
- a training row's history leaves out the row's own item (the query must predict an item
  from the others, not read it) and keeps a seeded random subset of at most `max_length`
  items (a fixed denoising of heavy users' histories);
- an evaluation row and a served user read the user's full training history, oldest first
  where the rows have times (what the item-item part's recency weights read).

No TensorFlow here: histories are padded int64 arrays (-1 pads), encoded as a `multi_hot`
feature by `FeatureEncoder`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tfrs_mtl.features.feature_config import FeatureConfig

HISTORY_FEATURE = "user_history"
#: Items of a training row's history (its own item excluded, a seeded random subset beyond
#: this many).
DEFAULT_HISTORY_LENGTH = 100
PAD = -1


def user_history_feature(
    item_table: str, embedding_dim: int, name: str = HISTORY_FEATURE
) -> FeatureConfig:
    """The query-side `multi_hot` feature reading the histories through `item_table`.

    Args:
        item_table: the candidate id feature's table (e.g. `movie_id`): the history shares
            its vocabulary and its single variable.
        embedding_dim: must equal the item table's width (shared tables agree).
        name: the feature's key in the raw feature dict.
    """
    return FeatureConfig(
        name=name, kind="multi_hot", side="query", table=item_table, embedding_dim=embedding_dim
    )


def integer_item_ids(items: np.ndarray) -> np.ndarray:
    """int64 `[n]` of integer-like item ids (`"242"` -> 242); `ValueError` otherwise."""
    values = np.asarray(items)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    try:
        return np.array([int(str(item)) for item in values], dtype=np.int64)
    except ValueError as error:
        raise ValueError(
            f"user_history needs integer-like item ids (looked up by their string form); {error}"
        ) from None


@dataclasses.dataclass(frozen=True, eq=False)
class UserHistories:
    """Every user's training items, fitted on training rows only.

    Attributes:
        items: `[num_train_rows]` int64 item ids grouped by user, in row order.
        offsets: `[num_users + 1]`: user `u`'s items are `items[offsets[u]:offsets[u + 1]]`.
        by_time: None (the rows had no times), or the same items grouped the same way, each
            user's listed oldest first (rows of one time in row order).
    """

    items: np.ndarray
    offsets: np.ndarray
    by_time: np.ndarray | None = None

    @classmethod
    def fit(
        cls,
        users: np.ndarray,
        items: np.ndarray,
        num_users: int,
        times: np.ndarray | None = None,
    ) -> UserHistories:
        """From the training rows' `[n]` user indices (`0..num_users-1`) and int64 item ids,
        and their times where the data have them (`full` then lists a history oldest first)."""
        users = np.asarray(users, np.int64)
        items = np.asarray(items, np.int64)
        order = np.argsort(users, kind="stable")
        counts = np.bincount(users, minlength=num_users)
        offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
        by_time = None
        if times is not None:
            by_time = items[np.lexsort((np.arange(len(users)), np.asarray(times), users))]
        return cls(items=items[order], offsets=offsets, by_time=by_time)

    @property
    def num_users(self) -> int:
        return len(self.offsets) - 1

    def of_user(self, user: int) -> np.ndarray:
        """User `user`'s training items (empty for a user without training rows)."""
        return self._of(user, self.items)

    def _of(self, user: int, listed: np.ndarray) -> np.ndarray:
        """User `user`'s slice of `listed` (`items` or `by_time`)."""
        if not 0 <= user < self.num_users:
            return np.zeros(0, np.int64)
        return listed[self.offsets[user] : self.offsets[user + 1]]

    def full(self, users: np.ndarray) -> np.ndarray:
        """`[len(users), longest]` int64: each user's full training history, -1 padded.

        For evaluation rows and served users (nothing excluded, nothing sampled); oldest
        first where the rows had times (`by_time`).
        """
        listed = self.items if self.by_time is None else self.by_time
        histories = [self._of(int(user), listed) for user in np.asarray(users)]
        return _padded(histories)

    def for_training(
        self, users: np.ndarray, own_items: np.ndarray, max_length: int, seed: int
    ) -> np.ndarray:
        """`[len(users), <= max_length]` int64 histories of training rows, -1 padded.

        Row `i` holds user `users[i]`'s training items without `own_items[i]`; when more
        than `max_length` remain, a random subset (seeded, in history order) is kept.
        """
        if max_length < 1:
            raise ValueError(f"max_length={max_length} must be >= 1")
        rng = np.random.default_rng(seed)
        histories = []
        for user, own in zip(np.asarray(users), np.asarray(own_items), strict=True):
            items = self.of_user(int(user))
            items = items[items != own]
            if len(items) > max_length:
                items = items[np.sort(rng.choice(len(items), max_length, replace=False))]
            histories.append(items)
        return _padded(histories)


def _padded(histories: list[np.ndarray]) -> np.ndarray:
    width = max((len(items) for items in histories), default=0)
    # At least one column: a batch of users without history still has the feature's shape.
    out = np.full((len(histories), max(width, 1)), PAD, dtype=np.int64)
    for row, items in enumerate(histories):
        out[row, : len(items)] = items
    return out
