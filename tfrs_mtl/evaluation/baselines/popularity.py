"""Popularity: every user gets the items with the most training interactions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PopularityBaseline:
    """Scores each item by its number of training interactions; predicts the mean rating.

    Attributes:
        item_counts: `[num_items]` training interactions of each item (the score).
        mean_rating: global mean of the training ratings (`nan` when fitted without ratings).

    Example:
        >>> model = PopularityBaseline.fit([0, 1, 1], num_items=3, ratings=[4.0, 2.0, 3.0])
        >>> model.score(np.array([5])).tolist()
        [[1.0, 2.0, 0.0]]
    """

    item_counts: np.ndarray
    mean_rating: float

    @classmethod
    def fit(
        cls, item_indices: object, *, num_items: int, ratings: object | None = None
    ) -> PopularityBaseline:
        """Counts training interactions per item.

        Args:
            item_indices: `[num_interactions]` item of each training interaction.
            num_items: catalogue size.
            ratings: optional `[num_interactions]` ratings, for `predict_rating`.
        """
        items = np.asarray(item_indices, dtype=np.int64)
        if items.size and (items.min() < 0 or items.max() >= num_items):
            raise ValueError(f"item indices must lie in [0, {num_items})")
        counts = np.bincount(items, minlength=num_items).astype(np.float32)
        mean = (
            float(np.mean(np.asarray(ratings, dtype=np.float64))) if ratings is not None else np.nan
        )
        return cls(counts, mean)

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        """The same item counts for every user, `[batch_size, num_items]` float32."""
        return np.broadcast_to(self.item_counts, (len(user_indices), self.item_counts.size))

    def predict_rating(self, user_indices: np.ndarray, item_indices: np.ndarray) -> np.ndarray:
        """The global mean training rating for every pair, `[batch_size]` float32."""
        return np.full(len(item_indices), self.mean_rating, dtype=np.float32)
