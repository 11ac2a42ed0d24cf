"""Plain Keras models over the shared layers, for serving: two encoders and a ranker.

They hold references to the `MultiTaskModel`'s own layers (no copies), so they always reflect
the trained weights; serving wraps them in `tf.function`s with explicit signatures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tensorflow as tf


class TowerEncoder(tf.keras.Model):
    """A raw feature dict `[batch_size]` -> the tower's embeddings `[batch_size, dim]`.

    Args:
        tower: A `QueryTower` or `CandidateTower`.
        feature_names: The raw features the tower reads (other keys are ignored).
    """

    def __init__(self, tower: tf.keras.layers.Layer, feature_names: tuple[str, ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.tower = tower
        self.feature_names = tuple(feature_names)

    def call(self, features: Mapping[str, tf.Tensor], training: bool | None = None) -> tf.Tensor:
        return self.tower(features, training=False)


class Ranker(tf.keras.Model):
    """Raw query AND candidate features of `batch_size` pairs -> `{task: [batch_size]}`.

    Scores are ratings for rating tasks and probabilities for binary tasks (`p(purchase)` is
    the ESMM `p(click) * p(purchase | click)` when cascaded).

    Args:
        query_tower: The model's query tower.
        candidate_tower: The model's candidate tower.
        scorer: The model's `RankingScorer`.
    """

    def __init__(
        self,
        query_tower: tf.keras.layers.Layer,
        candidate_tower: tf.keras.layers.Layer,
        scorer: tf.keras.layers.Layer,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.query_tower = query_tower
        self.candidate_tower = candidate_tower
        self.scorer = scorer

    @property
    def task_names(self) -> tuple[str, ...]:
        return tuple(self.scorer.task_names)

    def call(
        self, features: Mapping[str, tf.Tensor], training: bool | None = None
    ) -> dict[str, tf.Tensor]:
        query = self.query_tower(features, training=False)
        candidate = self.candidate_tower(features, training=False)
        return dict(self.scorer(features, query, candidate, training=False))
