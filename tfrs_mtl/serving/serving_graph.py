"""`ServingGraph`: the two-stage recommender as TensorFlow functions (what a SavedModel holds).

Stage 1 encodes the queries and searches the candidate index; stage 2 gathers the retrieved
candidates' features from the catalogue tensors by row (`tf.gather`), repeats each query's
features once per candidate, scores every pair with the multi-task ranker in one call, blends
the standardised scores (`tfrs_mtl.serving.blend`) and keeps the best `k`. The same traced
functions serve in-process and after `tf.saved_model.load`, so both give the same results.

Latency: when the ranker can score tower outputs (an `EmbeddingRanker`, as
`tfrs_mtl.models.MultiTaskModel`'s is), stage 2 reuses the query embedding of stage 1 and
gathers the catalogue's precomputed candidate embeddings instead of running both towers again
on every (query, candidate) pair; exclusions are matched by catalogue row, not by id text.
The functions are traced without AutoGraph (no tensor-dependent Python control flow here),
which also shortens export, and each graph keys TensorFlow's retracing detector to itself, so
building many recommenders in one process (k-fold CV) traces each once without warnings.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl.serving.blend import RETRIEVAL_SCORE, standardised_scores_tf
from tfrs_mtl.serving.candidate_index import CandidateIndex
from tfrs_mtl.serving.catalogue_encoding import padding_id_for
from tfrs_mtl.serving.interfaces import EmbeddingRanker

__all__ = ["RESERVED_INPUT_NAMES", "RETRIEVAL_SCORE", "TASK_SCORE_PREFIX", "ServingGraph"]

# Inputs of the signatures besides the query features; no feature may take these names.
RESERVED_INPUT_NAMES = ("exclusions", "k", "num_candidates", "blend_weights", "candidate_ids")
TASK_SCORE_PREFIX = "scores/"


class _Untracked:
    """Holds the Keras models out of sight of TensorFlow's object tracking."""

    def __init__(self, query_encoder: tf.keras.Model, ranker: tf.keras.Model | None) -> None:
        self.query_encoder = query_encoder
        self.ranker = ranker


def _resources_of(*models: tf.keras.Model | None) -> list[Any]:
    """Every variable and resource (lookup tables) the models hold, each once."""
    found: dict[int, Any] = {}
    for model in models:
        if model is None:
            continue
        for trackable in tf.train.TrackableView(model).descendants():
            if isinstance(trackable, tf.Variable | tf.saved_model.experimental.TrackableResource):
                found.setdefault(id(trackable), trackable)
    return list(found.values())


class ServingGraph(tf.Module):
    """Holds the encoders, ranker, index and catalogue tensors; exposes three tf.functions.

    `recommend(query_features, exclusions, k, num_candidates, blend_weights)`, with
    `exclusions [batch_size, num_excluded]` candidate ids padded with the padding id ("" or
    -1), scalar int32 `k` and `num_candidates`, and `blend_weights [1 + num_tasks]` float32
    in the order `("retrieval", *ranking_task_names)`; returns `item_ids`, `retrieval_scores`,
    `final_scores` and `scores/<task>`, each `[batch_size, k]`. `final_scores` is the
    weighted sum of each score standardised over the query's candidates (the tasks of
    `probability_task_names` as log-probabilities; `tfrs_mtl.serving.blend`).

    `retrieve(query_features, k)` returns `item_ids` and `retrieval_scores` `[batch_size, k]`.

    `score(query_features, candidate_ids [batch_size, num_ids])` returns `scores/<task>`.

    Slots left empty (fewer unexcluded items than `k`) hold the padding id and NaN scores.
    Callers reaching the graph directly (TF Serving) get `num_candidates` raised to `k` and
    both clipped into `[1, num_items]`; the Python API checks them first (`k <= 0` raises).
    """

    def __init__(
        self,
        *,
        query_encoder: tf.keras.Model,
        ranker: tf.keras.Model | None,
        index: CandidateIndex,
        columns: Mapping[str, np.ndarray],
        candidate_id_feature: str,
        candidate_feature_names: tuple[str, ...],
        query_signature: Mapping[str, tf.TensorSpec],
        ranking_task_names: tuple[str, ...],
        candidate_embeddings: np.ndarray | None = None,
        probability_task_names: tuple[str, ...] = (),
    ) -> None:
        super().__init__(name="serving_graph")
        clashes = sorted(set(query_signature) & set(RESERVED_INPUT_NAMES))
        if clashes:
            raise ValueError(
                f"query feature name(s) {clashes} clash with serving inputs {RESERVED_INPUT_NAMES}"
            )
        # The Keras models stay untracked: SavedModel would otherwise serialize every Keras
        # layer with call functions of its own (most of the export and load time). The
        # serving functions need only the models' variables and lookup tables, which
        # `signatures` tracks.
        self._models = _Untracked(query_encoder, ranker)
        self.index = index
        self.catalogue = {
            name: tf.Variable(values, trainable=False, name=name)
            for name, values in columns.items()
        }
        self.num_items = index.num_items
        self._id_feature = candidate_id_feature
        self._candidate_feature_names = candidate_feature_names
        self._query_feature_names = tuple(query_signature)
        self._task_names = ranking_task_names
        self._probability_tasks = frozenset(probability_task_names)
        # [num_items, embedding_dim]: stage 2 gathers these instead of re-running the tower.
        self.candidate_embeddings = (
            tf.Variable(
                np.asarray(candidate_embeddings, np.float32),
                trainable=False,
                name="candidate_embeddings",
            )
            if candidate_embeddings is not None and isinstance(ranker, EmbeddingRanker)
            else None
        )
        ids = self.catalogue[candidate_id_feature]
        self.padding_id = tf.constant(padding_id_for(ids.dtype), ids.dtype)
        self.id_to_row = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(columns[candidate_id_feature]),
                tf.range(self.num_items, dtype=tf.int32),
            ),
            default_value=-1,
        )
        features = {
            name: tf.TensorSpec(spec.shape, spec.dtype, name=name)
            for name, spec in query_signature.items()
        }
        self.recommend = tf.function(
            functools.partial(ServingGraph._recommend, self),
            autograph=False,
            input_signature=[
                features,
                tf.TensorSpec([None, None], ids.dtype, name="exclusions"),
                tf.TensorSpec([], tf.int32, name="k"),
                tf.TensorSpec([], tf.int32, name="num_candidates"),
                tf.TensorSpec([1 + len(ranking_task_names)], tf.float32, name="blend_weights"),
            ],
        )
        self.retrieve = tf.function(
            functools.partial(ServingGraph._retrieve, self),
            autograph=False,
            input_signature=[features, tf.TensorSpec([], tf.int32, name="k")],
        )
        self.score = tf.function(
            functools.partial(ServingGraph._score, self),
            autograph=False,
            input_signature=[
                features,
                tf.TensorSpec([None, None], ids.dtype, name="candidate_ids"),
            ],
        )

    def signatures(self) -> dict[str, Any]:
        """The concrete `recommend`, `retrieve` and `score` functions to export.

        Tracing them creates any variable the models build lazily; every variable and lookup
        table of the models is then tracked as `model_resources`, so SavedModel saves them.
        """
        functions = {
            name: getattr(self, name).get_concrete_function()
            for name in ("recommend", "retrieve", "score")
        }
        self.model_resources = _resources_of(self._models.query_encoder, self._models.ranker)
        return functions

    # Bound methods share one code object, which TensorFlow's retracing detector keys on: the
    # partials above give each graph its own key (one trace per graph is no retracing).

    def _encode_queries(self, query_features: Mapping[str, tf.Tensor]) -> tf.Tensor:
        inputs = {name: query_features[name] for name in self._query_feature_names}
        return tf.cast(self._models.query_encoder(inputs, training=False), tf.float32)

    def _ids_at(self, rows: tf.Tensor) -> tf.Tensor:
        return tf.gather(self.catalogue[self._id_feature], tf.maximum(rows, 0))

    def _rank(
        self,
        query_features: Mapping[str, tf.Tensor],
        query_embeddings: tf.Tensor | None,
        rows: tf.Tensor,
    ) -> dict[str, tf.Tensor]:
        """Scores `[batch_size, num_candidates]` (query, catalogue row) pairs with the ranker.

        `query_embeddings` `[batch_size, embedding_dim]` are the query tower's outputs when
        already computed (stage 1), else None.
        """
        if not self._task_names or self._models.ranker is None:
            return {}
        batch_size, num_candidates = tf.shape(rows)[0], tf.shape(rows)[1]
        flat_rows = tf.reshape(tf.maximum(rows, 0), [-1])
        inputs = {
            name: tf.repeat(query_features[name], num_candidates, axis=0)
            for name in self._query_feature_names
        }
        for name in self._candidate_feature_names:
            inputs[name] = tf.gather(self.catalogue[name], flat_rows)
        if self.candidate_embeddings is None:
            outputs = self._models.ranker(inputs, training=False)
        else:
            ranker = self._models.ranker
            assert isinstance(ranker, EmbeddingRanker)  # candidate_embeddings says it is one
            if ranker.reads_plain_queries:
                # The ranking stack reads long histories unclustered (history_clusters).
                query_inputs = {name: query_features[name] for name in self._query_feature_names}
                query_embeddings = tf.cast(ranker.query_embeddings(query_inputs), tf.float32)
            elif query_embeddings is None:
                query_embeddings = self._encode_queries(query_features)
            outputs = ranker.score_embeddings(
                inputs,
                tf.repeat(query_embeddings, num_candidates, axis=0),
                tf.gather(self.candidate_embeddings, flat_rows),
            )
        return {
            task: tf.reshape(tf.cast(outputs[task], tf.float32), [batch_size, num_candidates])
            for task in self._task_names
        }

    def _recommend(
        self,
        query_features: Mapping[str, tf.Tensor],
        exclusions: tf.Tensor,
        k: tf.Tensor,
        num_candidates: tf.Tensor,
        blend_weights: tf.Tensor,
    ) -> dict[str, tf.Tensor]:
        num_candidates = tf.clip_by_value(tf.maximum(num_candidates, k), 1, self.num_items)
        k = tf.clip_by_value(k, 1, num_candidates)
        # Over-fetch by the number of exclusions so that num_candidates unseen items remain.
        num_fetched = tf.minimum(num_candidates + tf.shape(exclusions)[1], self.num_items)
        query_embeddings = self._encode_queries(query_features)
        scores, rows = self.index.search(query_embeddings, num_fetched)
        # Excluded ids as catalogue rows (padding and unknown ids: -1, never a valid row).
        excluded_rows = self.id_to_row.lookup(exclusions)
        excluded = tf.reduce_any(
            tf.equal(rows[:, :, tf.newaxis], excluded_rows[:, tf.newaxis, :]), axis=-1
        )
        valid = (rows >= 0) & ~excluded
        scores, positions = tf.math.top_k(tf.where(valid, scores, -np.inf), k=num_candidates)
        rows = tf.gather(rows, positions, batch_dims=1)
        valid = tf.gather(valid, positions, batch_dims=1)

        task_scores = self._rank(query_features, query_embeddings, rows)
        standardised = [standardised_scores_tf(scores, valid)] + [
            standardised_scores_tf(
                task_scores[task], valid, is_probability=task in self._probability_tasks
            )
            for task in self._task_names
        ]
        blended = tf.reduce_sum(tf.stack(standardised, axis=-1) * blend_weights, axis=-1)
        _, best = tf.math.top_k(tf.where(valid, blended, -np.inf), k=k)

        valid = tf.gather(valid, best, batch_dims=1)

        def pick(values: tf.Tensor) -> tf.Tensor:
            return tf.where(valid, tf.gather(values, best, batch_dims=1), np.nan)

        outputs = {
            "item_ids": tf.where(
                valid, self._ids_at(tf.gather(rows, best, batch_dims=1)), self.padding_id
            ),
            "retrieval_scores": pick(scores),
            "final_scores": pick(blended),
        }
        for task in self._task_names:
            outputs[TASK_SCORE_PREFIX + task] = pick(task_scores[task])
        return outputs

    def _retrieve(self, query_features: Mapping[str, tf.Tensor], k: tf.Tensor) -> dict:
        k = tf.clip_by_value(k, 1, self.num_items)
        scores, rows = self.index.search(self._encode_queries(query_features), k)
        valid = rows >= 0
        return {
            "item_ids": tf.where(valid, self._ids_at(rows), self.padding_id),
            "retrieval_scores": tf.where(valid, scores, np.nan),
        }

    def _score(self, query_features: Mapping[str, tf.Tensor], candidate_ids: tf.Tensor) -> dict:
        rows = self.id_to_row.lookup(candidate_ids)
        check = tf.debugging.assert_non_negative(
            rows, message="score: candidate_ids holds an id that is not in the catalogue"
        )
        with tf.control_dependencies([check]):
            rows = tf.identity(rows)
        task_scores = self._rank(query_features, None, rows)
        return {TASK_SCORE_PREFIX + task: scores for task, scores in task_scores.items()}
