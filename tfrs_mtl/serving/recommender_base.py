"""`RecommenderBase`: the `recommend` / `retrieve` / `score` API over a serving graph.

Argument checking and the conversion to and from tensors live here, once, for the in-process
`Recommender` and for the `LoadedRecommender` that `tfrs_mtl.serving.load` returns; both then
call the same traced functions (`ServingGraph`), so they give the same results.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl.serving.blend import RETRIEVAL_SCORE, blend_names, checked_blend
from tfrs_mtl.serving.catalogue_encoding import padding_id_for
from tfrs_mtl.serving.id_arrays import id_array
from tfrs_mtl.serving.recommendations import Recommendations
from tfrs_mtl.serving.serving_graph import TASK_SCORE_PREFIX


class RecommenderBase:
    """Shared API. Subclasses set the attributes below and `_serving_function`.

    Attributes:
        ranking_task_names: the ranker's tasks, in the order of the blend weights.
        query_signature: `{feature: tf.TensorSpec}` of the raw query features.
        num_items: catalogue size.
        candidate_id_dtype: `tf.string` or an integer dtype.
        fitted_blend: the blend `recommend` uses by default (None: stage 1's order).
    """

    fitted_blend: dict[str, float] | None = None
    ranking_task_names: tuple[str, ...]
    query_signature: dict[str, tf.TensorSpec]
    num_items: int
    candidate_id_dtype: tf.DType

    def _serving_function(self, name: str) -> Any:
        """The traced `recommend`, `retrieve` or `score` function (fixed input signature)."""
        raise NotImplementedError

    def _concrete_function(self, name: str) -> Any:
        """`_serving_function(name)`'s one concrete function, looked up once per recommender.

        Calling it directly skips `tf.function`'s per-call dispatch (signature matching in
        Python, about a third of a single request's time).
        """
        functions = self.__dict__.setdefault("_concrete_functions", {})
        if name not in functions:
            # Idempotent: threads racing here store the same function.
            functions[name] = self._serving_function(name).get_concrete_function()
        return functions[name]

    def _forget_concrete_functions(self) -> None:
        """Drops the concrete functions looked up so far: a recommender whose graph was
        rebuilt (`Recommender.add_items`) must not keep serving the old one."""
        self.__dict__.pop("_concrete_functions", None)

    def _run_recommend(self, *inputs: Any) -> Mapping[str, Any]:
        return self._concrete_function("recommend")(*inputs)

    def _run_retrieve(self, *inputs: Any) -> Mapping[str, Any]:
        return self._concrete_function("retrieve")(*inputs)

    def _run_score(self, *inputs: Any) -> Mapping[str, Any]:
        return self._concrete_function("score")(*inputs)

    @property
    def default_blend(self) -> dict[str, float]:
        """The blend `recommend` uses when given none: the model's, fitted on validation data
        (`fitted_blend`), else the retrieval score alone (stage 1's order)."""
        return dict(self.fitted_blend) if self.fitted_blend else {RETRIEVAL_SCORE: 1.0}

    def recommend(
        self,
        query_features: Mapping[str, Any],
        k: int = 10,
        num_candidates: int = 200,
        exclude: Sequence[Sequence[Any]] | None = None,
        blend: Mapping[str, float] | None = None,
    ) -> Recommendations:
        """Retrieves `num_candidates` items per query, re-ranks them, returns the best `k`.

        Args:
            query_features: raw query features, each `[batch_size]` or `[batch_size, max_len]`;
                extra keys are ignored. Unknown ids go through the model's OOV buckets. A
                history (`user_history`) lists the user's items oldest first, -1 padded at
                the end: a model whose item-item part has a recency weighs the last ones most.
            k: items returned per query. `k <= 0` raises ValueError; `k` larger than the
                catalogue is clipped to the catalogue size with a warning.
            num_candidates: items retrieved in stage 1 and re-ranked in stage 2; raised to `k`
                when smaller, clipped to the catalogue size.
            exclude: per query, candidate ids never to return (e.g. already seen). The index
                is over-fetched by their number, so `k` unseen items still come back while
                the catalogue has them.
            blend: weights of `"retrieval"` and of each ranking task in the final score, e.g.
                `{"engagement": 1.0, "rating": 0.5}`; each score enters standardised over the
                query's candidates, probabilities as log-probabilities
                (`tfrs_mtl.serving.blend`). Default `default_blend`.

        Returns:
            `Recommendations` with arrays `[batch_size, k]` (empty batch: `[0, k]`).
        """
        features, batch_size = self._query_tensors(query_features)
        k = self._checked_k(k)
        if isinstance(num_candidates, bool) or not isinstance(num_candidates, int | np.integer):
            raise TypeError(f"num_candidates must be an int, got {num_candidates!r}")
        if num_candidates <= 0:
            raise ValueError(f"num_candidates={num_candidates} must be positive")
        num_candidates = min(max(int(num_candidates), k), self.num_items)
        weights = self._blend_weights(blend)
        if batch_size == 0:
            return Recommendations.empty(k, self.ranking_task_names, self._numpy_id_dtype())
        exclusions = self._exclusion_tensor(exclude, batch_size)
        outputs = self._run_recommend(
            features, exclusions, tf.constant(k), tf.constant(num_candidates), weights
        )
        return Recommendations.from_tensors(outputs, self.ranking_task_names)

    def retrieve(self, query_features: Mapping[str, Any], k: int = 10) -> Recommendations:
        """Stage 1 only: the `k` best items by retrieval score (`scores` is empty)."""
        features, batch_size = self._query_tensors(query_features)
        k = self._checked_k(k)
        if batch_size == 0:
            return Recommendations.empty(k, (), self._numpy_id_dtype())
        return Recommendations.from_tensors(self._run_retrieve(features, tf.constant(k)), ())

    def score(
        self, query_features: Mapping[str, Any], candidate_ids: Sequence[Sequence[Any]] | np.ndarray
    ) -> dict[str, np.ndarray]:
        """Stage 2 only: every ranking task's score of given items, `{task: [batch, num_ids]}`.

        Raises:
            ValueError: naming candidate ids that are not in the catalogue.
            TypeError: candidate ids of the wrong dtype (integers are accepted for string ids).
        """
        features, batch_size = self._query_tensors(query_features)
        ids = tf.constant(
            id_array(candidate_ids, self.candidate_id_dtype, "candidate_ids"),
            dtype=self.candidate_id_dtype,
        )
        if ids.shape.rank != 2 or ids.shape[0] != batch_size:
            raise ValueError(
                f"candidate_ids must be [batch_size={batch_size}, num_ids], got {ids.shape}"
            )
        try:
            outputs = self._run_score(features, ids)
        except tf.errors.InvalidArgumentError:
            # TF's message is a graph trace; the graph's assert only says an id is unknown.
            raise ValueError(
                "candidate_ids holds ids that are not in the catalogue "
                f"({self.num_items} {self.candidate_id_dtype.name} ids)"
            ) from None
        return {
            task: np.asarray(outputs[TASK_SCORE_PREFIX + task], np.float32)
            for task in self.ranking_task_names
        }

    def _numpy_id_dtype(self) -> Any:
        return (
            object
            if self.candidate_id_dtype == tf.string
            else self.candidate_id_dtype.as_numpy_dtype
        )

    def _checked_k(self, k: int) -> int:
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise TypeError(f"k must be an int, got {k!r}")
        if k <= 0:
            raise ValueError(f"k={k} must be positive")
        if k > self.num_items:
            warnings.warn(
                f"k={k} exceeds the catalogue size {self.num_items}; returning {self.num_items}",
                stacklevel=3,
            )
            return self.num_items
        return int(k)

    def _query_tensors(self, query_features: Mapping[str, Any]) -> tuple[dict[str, tf.Tensor], int]:
        """Checks the features against `query_signature`: every feature present, ids of the
        right dtype (integer ids become text for string features), floats finite, shapes and
        batch sizes agreeing. Raises TypeError / ValueError naming the feature."""
        if not isinstance(query_features, Mapping):
            raise TypeError(
                "query_features must be a mapping {feature: values}, got "
                f"{type(query_features).__name__}; the model reads {list(self.query_signature)}"
            )
        missing = [name for name in self.query_signature if name not in query_features]
        if missing:
            raise ValueError(
                f"query_features lacks {missing}; the model reads {list(self.query_signature)}"
            )
        tensors: dict[str, tf.Tensor] = {}
        for name, spec in self.query_signature.items():
            what = f"query feature {name!r}"
            values = query_features[name]
            if spec.dtype == tf.string:
                values = id_array(values, spec.dtype, what)
            values = np.asarray(values)
            if spec.dtype.is_integer and values.dtype.kind == "O":
                values = id_array(values, spec.dtype, what)
            try:
                # An empty batch (`[]` reads as float64): only the feature's shape matters.
                tensor = (
                    tf.zeros([0] + [dim or 0 for dim in spec.shape.as_list()[1:]], spec.dtype)
                    if values.size == 0 and values.shape[:1] == (0,)
                    else tf.constant(values, dtype=spec.dtype)
                )
            except (TypeError, ValueError, tf.errors.InvalidArgumentError) as error:
                raise ValueError(f"{what} cannot be read as {spec.dtype.name}: {error}") from None
            # Checked in numpy: an eager TensorFlow reduction costs more than the whole check.
            if spec.dtype.is_floating and not np.isfinite(tensor.numpy()).all():
                raise ValueError(f"{what} holds NaN or infinite values; expected finite numbers")
            if not spec.shape.is_compatible_with(tensor.shape):
                raise ValueError(
                    f"query feature {name!r} has shape {tensor.shape}; expected {spec.shape}"
                )
            tensors[name] = tensor
        sizes = {name: int(tensor.shape[0]) for name, tensor in tensors.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"query features disagree on the batch size: {sizes}")
        return tensors, next(iter(sizes.values()), 0)

    def _exclusion_tensor(
        self, exclude: Sequence[Sequence[Any]] | None, batch_size: int
    ) -> tf.Tensor:
        padding = padding_id_for(self.candidate_id_dtype)
        if exclude is None:
            exclude = [[] for _ in range(batch_size)]
        if len(exclude) != batch_size:
            raise ValueError(
                f"exclude has {len(exclude)} lists; expected one per query ({batch_size})"
            )
        lists = []
        for row, items in enumerate(exclude):
            if items is None or isinstance(items, str | bytes):
                raise TypeError(f"exclude[{row}] is {items!r}; expected a list of candidate ids")
            ids = id_array(items, self.candidate_id_dtype, f"exclude[{row}]")
            if ids.ndim != 1:
                raise ValueError(f"exclude[{row}] has shape {ids.shape}; expected a flat list")
            lists.append(ids.tolist())
        width = max((len(items) for items in lists), default=0)
        rows = [items + [padding] * (width - len(items)) for items in lists]
        if width == 0:
            # From numpy, not `tf.zeros`: no eager op to run.
            return tf.constant(
                np.empty((batch_size, 0), self._numpy_id_dtype()), self.candidate_id_dtype
            )
        return tf.constant(rows, dtype=self.candidate_id_dtype)

    def _blend_weights(self, blend: Mapping[str, float] | None) -> tf.Tensor:
        weights = checked_blend(
            self.default_blend if blend is None else blend, self.ranking_task_names
        )
        names = blend_names(self.ranking_task_names)
        return tf.constant([weights.get(name, 0.0) for name in names], tf.float32)
