"""The serving views of `MultiTaskModel` (`tfrs_mtl.serving.ServableModel`).

`query_encoder`, `candidate_encoder` and `ranker` are plain Keras models holding references to
the model's own layers (no copies), so they always reflect the trained weights; serving wraps
them in `tf.function`s with explicit signatures. `ServingViews` adds them, the feature names and
the signatures to the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl.features import FeatureVocabularies, feature_signature
from tfrs_mtl.features.raw_values import to_key_strings
from tfrs_mtl.layers import retrieval_embeddings
from tfrs_mtl.models.multitask_config import MultiTaskConfig
from tfrs_mtl.tasks import PROBABILITY_KINDS


class TowerEncoder(tf.keras.Model):
    """A raw feature dict `[batch_size]` -> its retrieval embeddings `[batch_size, dim]`: the
    tower's output, with the item-item part's columns appended when the model has one.

    Args:
        tower: A `QueryTower` or `CandidateTower`.
        feature_names: The raw features the tower reads (other keys are ignored).
        item_item: The model's `ItemItemPart`, or None.
    """

    def __init__(
        self,
        tower: tf.keras.layers.Layer,
        feature_names: tuple[str, ...],
        item_item: tf.keras.layers.Layer | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.tower = tower
        self.feature_names = tuple(feature_names)
        self.item_item = item_item

    def call(self, features: Mapping[str, tf.Tensor], training: bool | None = None) -> tf.Tensor:
        # Retrieval embeddings: long histories pooled by clusters (TowerConfig.history_clusters),
        # a query of which nothing is known by the item biases alone.
        tower_output = self.tower(features, training=False, retrieval_query=True)
        return retrieval_embeddings(self.item_item, self.tower.side, features, tower_output, False)


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
        return self.score_embeddings(features, query, candidate)

    def score_embeddings(
        self,
        features: Mapping[str, tf.Tensor],
        query_embeddings: tf.Tensor,
        candidate_embeddings: tf.Tensor,
    ) -> dict[str, tf.Tensor]:
        """`call` from tower outputs already computed: `{task: [batch_size]}`.

        Serving scores retrieved candidates this way: the query embedding of stage 1 and the
        catalogue's precomputed candidate embeddings replace running both towers on every
        pair, which is most of stage 2's work.

        Args:
            features: the raw pair features (the scorer reads the id features, for biases).
            query_embeddings: `[batch_size, dim]` query tower outputs (or retrieval
                embeddings, which begin with them), one per pair.
            candidate_embeddings: `[batch_size, dim]` candidate tower outputs (or retrieval
                embeddings), one per pair.
        """
        # Retrieval embeddings may carry the item-item part's columns after the towers' own:
        # the ranking stack reads the towers' columns.
        query_embeddings = query_embeddings[:, : self.query_tower.embedding_width]
        candidate_embeddings = candidate_embeddings[:, : self.candidate_tower.embedding_width]
        return dict(self.scorer(features, query_embeddings, candidate_embeddings, training=False))

    @property
    def reads_plain_queries(self) -> bool:
        """Whether the ranking stack's query embeddings differ from the retrieval ones (the
        query tower clusters long histories for retrieval only), so that stage 2 must take
        them from `query_embeddings` instead of reusing stage 1's."""
        return bool(self.query_tower.history_clusters > 1)

    def query_embeddings(self, query_features: Mapping[str, tf.Tensor]) -> tf.Tensor:
        """The query tower's outputs as the ranking stack reads them, `[batch_size, dim]`."""
        return self.query_tower(query_features, training=False)


class ServingViews:
    """Mixin of `MultiTaskModel`: the views and names serving relies on.

    Expects `_config`, `_vocabularies`, `query_tower`, `candidate_tower`, `item_item` and
    `ranking_scorer` on the model.
    """

    _config: MultiTaskConfig
    _vocabularies: FeatureVocabularies
    query_tower: Any
    candidate_tower: Any
    item_item: Any
    ranking_scorer: Any

    @property
    def config(self) -> MultiTaskConfig:
        return self._config

    @property
    def vocabularies(self) -> FeatureVocabularies:
        return self._vocabularies

    @property
    def query_feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self._config.features.query_features)

    @property
    def candidate_feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self._config.features.candidate_features)

    @property
    def query_id_feature(self) -> str:
        return self._config.query_id_feature

    @property
    def candidate_id_feature(self) -> str:
        return self._config.candidate_id_feature

    @property
    def ranking_task_names(self) -> tuple[str, ...]:
        return tuple(task.name for task in self._config.ranking_tasks)

    @property
    def probability_task_names(self) -> tuple[str, ...]:
        """The ranking tasks whose scores are probabilities (binary behaviours, engagement)."""
        return tuple(
            task.name for task in self._config.ranking_tasks if task.kind in PROBABILITY_KINDS
        )

    def known_candidate_ids(self, ids: np.ndarray) -> np.ndarray:
        """`[len(ids)]` bool: which candidate ids are in the candidate id's training
        vocabulary (the others embed through its out-of-vocabulary rows)."""
        feature = next(
            f for f in self._config.features.features if f.name == self.candidate_id_feature
        )
        vocabulary = set(self._vocabularies.vocabulary(feature.table_name))
        keys = to_key_strings(tf.constant(np.asarray(ids))).numpy()
        return np.array([key.decode("utf-8") in vocabulary for key in keys], dtype=bool)

    def feature_signature(self, side: str) -> dict[str, tf.TensorSpec]:
        """Raw input specs of `side` (`query` or `candidate`), for SavedModel signatures."""
        return feature_signature(self._config.features, side)

    def _view(self, name: str, build: Any) -> Any:
        # Views are cached outside Keras attribute tracking: they hold the model's own layers.
        views = self.__dict__.setdefault("_serving_views", {})
        if name not in views:
            views[name] = build()
        return views[name]

    @property
    def query_encoder(self) -> tf.keras.Model:
        """Raw query features `[batch]` -> `[batch, dim]`."""
        return self._view(
            "query",
            lambda: TowerEncoder(self.query_tower, self.query_feature_names, self.item_item),
        )

    @property
    def candidate_encoder(self) -> tf.keras.Model:
        """Raw candidate features `[n]` -> `[n, dim]`."""
        return self._view(
            "candidate",
            lambda: TowerEncoder(
                self.candidate_tower, self.candidate_feature_names, self.item_item
            ),
        )

    @property
    def ranker(self) -> tf.keras.Model:
        """Raw query + candidate features of pairs -> `{ranking task: [batch]}`."""
        if self.ranking_scorer is None:
            raise AttributeError("the model has no ranking task (rating or binary), no ranker")
        scorer = self.ranking_scorer
        return self._view("ranker", lambda: Ranker(self.query_tower, self.candidate_tower, scorer))
