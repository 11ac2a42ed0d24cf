"""`Recommender`: a trained multi-task model and its catalogue, served in two stages.

Stage 1 retrieves candidates from a ScaNN index over the candidate tower's embeddings of the
whole catalogue; stage 2 re-ranks them with the model's multi-task ranker and blends the task
scores (Covington et al., "Deep Neural Networks for YouTube Recommendations", RecSys 2016).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl.serving import export
from tfrs_mtl.serving.blend import checked_blend
from tfrs_mtl.serving.candidate_index import CandidateIndex, build_index
from tfrs_mtl.serving.catalogue_encoding import (
    QUERY_BATCH_SIZE,
    encode_catalogue,
    encode_in_batches,
    padding_id_for,
    prepare_catalogue,
)
from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.index_tuning import TuningResult, tune_index
from tfrs_mtl.serving.interfaces import ServableModel
from tfrs_mtl.serving.recommender_base import RecommenderBase
from tfrs_mtl.serving.serving_graph import ServingGraph


@dataclasses.dataclass(frozen=True)
class AddedItems:
    """What `Recommender.add_items` added.

    Attributes:
        num_added: items added to the catalogue and the index.
        unknown_ids: those of them absent from the model's training vocabulary (embedded
            from their other features and the out-of-vocabulary row).
    """

    num_added: int
    unknown_ids: tuple[str | int, ...]


def _shown(value: Any) -> str | int:
    """A catalogue id as users wrote it (bytes decoded, numpy ints as Python ints)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value.item() if isinstance(value, np.generic) else value


def _stacked(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """`old` rows then `new` rows; multi-valued columns (`[n, max_len]`) padded to the wider
    width with the padding id of their dtype."""
    if old.ndim == 2 and old.shape[1] != new.shape[1]:
        width = max(old.shape[1], new.shape[1])
        padding = padding_id_for(tf.string if old.dtype == object else tf.as_dtype(old.dtype))
        fill = padding.encode() if isinstance(padding, str) else padding
        old, new = (
            np.pad(a, ((0, 0), (0, width - a.shape[1])), constant_values=fill) for a in (old, new)
        )
    return np.concatenate([old, new], axis=0)


class Recommender(RecommenderBase):
    """Builds the index over the catalogue and serves `recommend`, `retrieve` and `score`.

    Example:
        >>> recommender = Recommender(model, catalogue, IndexConfig(num_leaves=50))
        >>> results = recommender.recommend({"user_id": np.array(["42"])}, k=5,
        ...                                 exclude=[["50", "172"]], blend={"rating": 1.0})
        >>> results.to_frame()
        >>> recommender.save("exports/movielens")  # then tfrs_mtl.serving.load(...)

    Args:
        model: a trained `ServableModel` (e.g. `tfrs_mtl.models.MultiTaskModel`).
        catalogue: `{feature: array [num_items, ...]}`, one row per item, with the candidate
            id feature and every candidate feature the model reads.
        index_config: how to build the index; default `IndexConfig()` (ScaNN, adapted to the
            catalogue size).
        batch_size: items per candidate-encoder call when encoding the catalogue.
        progress: show a progress bar while encoding the catalogue.
        blend: the default blend of `recommend` (and of the export); default the model's
            `default_blend` (fitted on validation data by `tfrs_mtl.experiments`), else the
            retrieval score alone.

    Attributes:
        candidate_embeddings: `[num_items, embedding_dim]` float32, catalogue order.
        catalogue_ids: `[num_items]` candidate ids, catalogue order.
        columns: the catalogue's checked columns (`prepare_catalogue`), catalogue order.
        index: the built `CandidateIndex` (`index.config` is what was built).
        index_build_seconds: wall time of building the index (encoding excluded).
        graph: the `ServingGraph` that `save` exports.
    """

    def __init__(
        self,
        model: ServableModel,
        catalogue: Mapping[str, np.ndarray],
        index_config: IndexConfig | None = None,
        *,
        batch_size: int = 4096,
        progress: bool = True,
        blend: Mapping[str, float] | None = None,
    ) -> None:
        self.model = model
        self.index_config = index_config or IndexConfig()
        self.batch_size = batch_size
        columns = prepare_catalogue(model, catalogue)
        embeddings = encode_catalogue(
            model.candidate_encoder,
            columns,
            tuple(model.candidate_feature_names),
            batch_size,
            progress,
        )
        full_signature = model.feature_signature("query")
        missing = [name for name in model.query_feature_names if name not in full_signature]
        if missing:
            raise ValueError(f"model.feature_signature('query') lacks {missing}")
        self.query_signature = {name: full_signature[name] for name in model.query_feature_names}
        self.ranking_task_names = tuple(model.ranking_task_names)
        chosen = blend if blend is not None else model.default_blend
        self.fitted_blend = (
            checked_blend(chosen, self.ranking_task_names) if chosen is not None else None
        )
        self._serve(columns, embeddings)

    def _serve(self, columns: dict[str, np.ndarray], embeddings: np.ndarray) -> None:
        """Builds the index over `embeddings` (catalogue order) and the serving graph."""
        model = self.model
        self.columns = columns
        self.catalogue_ids = columns[model.candidate_id_feature]
        self.candidate_embeddings = embeddings
        start = time.perf_counter()
        self.index: CandidateIndex = build_index(embeddings, self.index_config)
        self.index_build_seconds = time.perf_counter() - start
        self.num_items = len(self.catalogue_ids)
        self.candidate_id_dtype = tf.as_dtype(
            tf.string if self.catalogue_ids.dtype == object else self.catalogue_ids.dtype
        )
        self.graph = ServingGraph(
            query_encoder=model.query_encoder,
            ranker=model.ranker if self.ranking_task_names else None,
            index=self.index,
            columns=columns,
            candidate_id_feature=model.candidate_id_feature,
            candidate_feature_names=tuple(model.candidate_feature_names),
            query_signature=self.query_signature,
            ranking_task_names=self.ranking_task_names,
            candidate_embeddings=embeddings,
            probability_task_names=tuple(model.probability_task_names),
        )
        # Requests served so far looked up the previous graph's functions (its index and
        # catalogue): without this, `add_items` would change nothing a served request sees.
        self._forget_concrete_functions()

    def add_items(self, items: Mapping[str, np.ndarray], *, progress: bool = False) -> AddedItems:
        """Adds items to the catalogue without retraining: embeds them with the trained
        candidate encoder, then rebuilds the index (same `index_config`) and the serving
        graph, so `recommend`, `retrieve`, `score` and `save` serve them.

        An id the model did not train on embeds through its table's out-of-vocabulary row
        beside the item's other features (genres, category, ...); `AddedItems.unknown_ids`
        names them.

        Args:
            items: `{feature: array [num_new, ...]}` with the catalogue's columns (the id
                feature and every candidate feature the model reads).
            progress: show a progress bar while encoding them.

        Raises:
            ValueError: an id already in the catalogue (or twice among `items`), or a column
                the catalogue check refuses (`prepare_catalogue`). Nothing changes then.
        """
        new = prepare_catalogue(self.model, items)
        ids = new[self.model.candidate_id_feature]
        present = np.isin(ids, self.catalogue_ids)
        if present.any():
            raise ValueError(
                f"add_items: {int(present.sum())} id(s) already in the catalogue, e.g. "
                f"{[_shown(i) for i in ids[present][:5]]}; ids must be new"
            )
        embeddings = encode_catalogue(
            self.model.candidate_encoder,
            new,
            tuple(self.model.candidate_feature_names),
            self.batch_size,
            progress,
        )
        if embeddings.shape[1] != self.candidate_embeddings.shape[1]:
            raise ValueError(
                f"add_items: the new items embed to {embeddings.shape[1]} columns, the "
                f"catalogue to {self.candidate_embeddings.shape[1]}"
            )
        known = self.model.known_candidate_ids(ids)
        self._serve(
            {name: _stacked(values, new[name]) for name, values in self.columns.items()},
            np.concatenate([self.candidate_embeddings, embeddings], axis=0),
        )
        return AddedItems(num_added=len(ids), unknown_ids=tuple(_shown(i) for i in ids[~known]))

    def encode_queries(self, query_features: Mapping[str, Any]) -> np.ndarray:
        """Query tower embeddings `[batch_size, embedding_dim]` (e.g. held-out queries for
        `tune_index`)."""
        features, _ = self._query_tensors(query_features)
        return encode_in_batches(
            self.model.query_encoder, features, tuple(features), QUERY_BATCH_SIZE
        )

    def tune_index(
        self,
        held_out_queries: Mapping[str, Any],
        *,
        target_recall: float = 0.95,
        k: int = 10,
        **grid: Any,
    ) -> TuningResult:
        """Measures index configurations on held-out queries against exact search.

        `tfrs_mtl.serving.tune_index` over this catalogue's embeddings, with `index_config` as
        the base; build the chosen one with `Recommender(model, catalogue, result.best)`.
        """
        return tune_index(
            self.candidate_embeddings,
            self.encode_queries(held_out_queries),
            target_recall=target_recall,
            k=k,
            base_config=self.index_config,
            **grid,
        )

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Exports one SavedModel folder with a manifest; see `tfrs_mtl.serving.save`."""
        return export.save(self, path, overwrite=overwrite)

    def _serving_function(self, name: str) -> Any:
        return getattr(self.graph, name)
