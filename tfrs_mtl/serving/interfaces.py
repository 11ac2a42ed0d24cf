"""`ServableModel`: the views of a trained model that serving uses (structural typing).

`tfrs_mtl.models.MultiTaskModel` satisfies it; so does any object with these attributes, which
keeps serving independent of how the model is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
import tensorflow as tf


@runtime_checkable
class ConfigLike(Protocol):
    """Anything with a JSON-ready `to_dict()` (a `tfrs_mtl.config.Config`)."""

    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class FingerprintedVocabularies(Protocol):
    """Fitted vocabularies that can name their content by a sha256 fingerprint."""

    def fingerprint(self) -> str: ...


@runtime_checkable
class ServableModel(Protocol):
    """What a two-stage recommender needs from a trained multi-task model.

    Attributes:
        query_encoder: raw query feature dict (each `[batch_size]` or `[batch_size, max_len]`)
            -> `[batch_size, embedding_dim]` float32.
        candidate_encoder: raw candidate feature dict `[num_items, ...]`
            -> `[num_items, embedding_dim]` float32.
        ranker: raw dict with query AND candidate features of `batch_size` pairs
            -> `dict[task_name, Tensor [batch_size]]` (ratings, probabilities).
        ranking_task_names: the keys `ranker` returns, in a fixed order.
        probability_task_names: those of them whose scores are probabilities (they enter
            blends as log-probabilities, `tfrs_mtl.serving.blend`).
        default_blend: the blend weights fitted for the model (`{score: weight}`), or None.
        query_feature_names: raw query features the encoders and ranker read.
        candidate_feature_names: raw candidate features (the catalogue's columns).
        candidate_id_feature: the catalogue's id feature, e.g. `movie_id`.
        query_id_feature: the query id feature, e.g. `user_id`.
        config: the model's config (`to_dict()` goes into export manifests).
        vocabularies: fitted vocabularies (`fingerprint()` goes into export manifests).
    """

    query_encoder: tf.keras.Model
    candidate_encoder: tf.keras.Model
    ranker: tf.keras.Model
    ranking_task_names: tuple[str, ...]
    probability_task_names: tuple[str, ...]
    default_blend: dict[str, float] | None
    query_feature_names: tuple[str, ...]
    candidate_feature_names: tuple[str, ...]
    candidate_id_feature: str
    query_id_feature: str
    config: ConfigLike
    vocabularies: FingerprintedVocabularies

    def feature_signature(self, side: str) -> dict[str, tf.TensorSpec]:
        """Dtype and shape (`[None]` or `[None, max_len]`) of each raw feature of `side`."""
        ...

    def known_candidate_ids(self, ids: np.ndarray) -> np.ndarray:
        """`[len(ids)]` bool: which candidate ids have their own embedding (were in the
        training vocabulary); the others embed through an out-of-vocabulary row and their
        other features."""
        ...


@runtime_checkable
class EmbeddingRanker(Protocol):
    """A ranker that also scores tower outputs already computed, so that stage 2 reuses the
    query embedding of stage 1 and the catalogue's precomputed candidate embeddings instead
    of running both towers on every (query, candidate) pair (`MultiTaskModel.ranker` is one).

    Attributes:
        reads_plain_queries: the ranking stack reads query embeddings that differ from the
            retrieval ones (`query_embeddings` gives them); False: stage 1's serve.
    """

    reads_plain_queries: bool

    def score_embeddings(
        self,
        features: Mapping[str, tf.Tensor],
        query_embeddings: tf.Tensor,
        candidate_embeddings: tf.Tensor,
    ) -> dict[str, tf.Tensor]:
        """`{task: [batch_size]}` of pairs of tower outputs `[batch_size, dim]` (the raw
        pair `features` for what the stack reads besides them)."""
        ...

    def query_embeddings(self, query_features: Mapping[str, tf.Tensor]) -> tf.Tensor:
        """The query embeddings `[batch_size, dim]` the ranking stack reads."""
        ...
