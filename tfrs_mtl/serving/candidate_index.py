"""The candidate index: ScaNN (approximate) or brute force (exact), behind one `search`.

ScaNN is driven through its TensorFlow ops (`scann.scann_ops`), the same ops
`tfrs.layers.factorized_top_k.ScaNN` uses, because tuning needs what that layer hides: the
searcher's query-time `leaves_to_search` and `pre_reorder_num_neighbors`. The searcher state is
a `ScannState` module, so a SavedModel holds it in its variables (export with the `Scann` op
namespace allowed). Brute force is `tfrs.layers.factorized_top_k.BruteForce`.

Eager `ScannIndex.search` calls take a fast path through ScaNN's pybind searcher loaded
from the same state (`scann_pybind_search`): same ids and scores, without the TF op's ~0.1 ms
per call. Traced calls (the serving graph, the SavedModel) keep the TF ops.

Where `scann` cannot be imported (another OS, another TensorFlow) `build_index` warns and
builds brute force instead, so the same API and export path keep working.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
import warnings
from types import ModuleType
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

from tfrs_mtl._native_logs import quiet_native_logs
from tfrs_mtl.serving import scann_pybind_search
from tfrs_mtl.serving.index_config import MIN_ITEMS_FOR_HASHING, IndexConfig

SCANN_INSTALL_HINT = (
    "install the ScaNN build matching TensorFlow 2.20: `pip install scann==1.4.2` "
    "(Linux x86-64/aarch64, Python 3.9-3.12)"
)


class ScannUnavailableWarning(UserWarning):
    """ScaNN could not be imported; an exact brute-force index was built instead."""


def load_scann_ops() -> ModuleType:
    """Imports `scann.scann_ops` (registers the `Scann>` TensorFlow ops) or raises ImportError."""
    return importlib.import_module("scann.scann_ops.py.scann_ops")


def index_fingerprint(embeddings: np.ndarray, identifiers: np.ndarray) -> str:
    """sha256 of the float32 candidate embeddings and their identifiers, in row order."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(embeddings, dtype=np.float32).tobytes())
    for identifier in identifiers.tolist():
        text = identifier.decode() if isinstance(identifier, bytes) else str(identifier)
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()


class CandidateIndex(tf.Module):
    """Top-k search over `num_items` candidate embeddings, by catalogue row.

    Attributes:
        config: the config actually built (adapted to the catalogue; `kind` says which).
        num_items: catalogue size.
    """

    def __init__(self, config: IndexConfig, num_items: int, name: str | None = None) -> None:
        super().__init__(name=name)
        self.config = config
        self.num_items = num_items

    @property
    def is_exact(self) -> bool:
        return self.config.kind == "brute_force"

    def search(self, queries: tf.Tensor, num_neighbors: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Finds the best `num_neighbors` candidates of each query (eager or in a tf.function).

        Args:
            queries: `[batch_size, embedding_dim]` float32.
            num_neighbors: int32 scalar, `1 <= num_neighbors <= num_items`.

        Returns:
            `(scores, rows)`, each `[batch_size, num_neighbors]`, best first: scores (higher is
            better) and catalogue rows (int32). Where an approximate search finds fewer
            neighbours, the missing slots have score `-inf` and row `-1`.
        """
        raise NotImplementedError


class BruteForceIndex(CandidateIndex):
    """Exact search: every query is scored against every candidate."""

    def __init__(self, embeddings: np.ndarray, config: IndexConfig) -> None:
        super().__init__(config.replace(kind="brute_force"), len(embeddings))
        layer_class = (
            _SquaredL2BruteForce
            if config.distance_measure == "squared_l2"
            else tfrs.layers.factorized_top_k.BruteForce
        )
        self.layer = layer_class(k=1)
        self.layer.index(
            tf.constant(embeddings, tf.float32), tf.range(len(embeddings), dtype=tf.int32)
        )

    def search(self, queries: tf.Tensor, num_neighbors: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return self.layer(queries, k=num_neighbors)


class _SquaredL2BruteForce(tfrs.layers.factorized_top_k.BruteForce):
    """BruteForce scoring by negative squared Euclidean distance (higher is closer)."""

    def _compute_score(self, queries: tf.Tensor, candidates: tf.Tensor) -> tf.Tensor:
        dot = tf.matmul(queries, candidates, transpose_b=True)
        query_norms = tf.reduce_sum(tf.square(queries), axis=1, keepdims=True)
        candidate_norms = tf.reduce_sum(tf.square(candidates), axis=1)
        return 2.0 * dot - query_norms - candidate_norms[tf.newaxis, :]


class ScannIndex(CandidateIndex):
    """ScaNN tree + asymmetric hashing + exact reordering (Guo et al., ICML 2020).

    Attributes:
        state: the searcher's tensors as variables (`ScannState`): what a SavedModel stores,
            and what every searcher of this index is made from.
        has_fast_path: whether eager searches go through ScaNN's pybind searcher (loaded from
            `state`); False where `scann_ops_pybind` cannot be imported.
    """

    def __init__(
        self,
        embeddings: np.ndarray,
        config: IndexConfig,
        scann_ops: ModuleType,
        fast_path: bool = True,
    ) -> None:
        super().__init__(config, len(embeddings))
        dim = embeddings.shape[1]
        if config.dimensions_per_block > dim:
            raise ValueError(
                f"dimensions_per_block={config.dimensions_per_block} exceeds the embedding "
                f"dimension {dim}"
            )
        builder = scann_ops.builder(
            db=np.ascontiguousarray(embeddings, dtype=np.float32),
            num_neighbors=10,
            distance_measure=config.distance_measure,
        )
        if config.uses_partitioning:
            builder = builder.tree(
                num_leaves=config.num_leaves,
                num_leaves_to_search=config.num_leaves_to_search,
                training_sample_size=config.training_sample_size,
                training_iterations=config.training_iterations,
                min_partition_size=config.min_partition_size,
                spherical=config.use_spherical_partitioning
                and config.distance_measure == "dot_product",
            )
        if len(embeddings) >= MIN_ITEMS_FOR_HASHING:
            builder = builder.score_ah(
                config.dimensions_per_block, training_sample_size=config.training_sample_size
            )
        else:
            builder = builder.score_brute_force()
        if config.num_reordering_candidates is not None:
            builder = builder.reorder(config.num_reordering_candidates)
        builder.set_n_training_threads(config.training_threads)
        self.dim = dim
        self._scann_ops = scann_ops
        self._lock = threading.Lock()
        with quiet_native_logs():  # ScaNN's builder logs warnings on small catalogues
            searcher = builder.build()
        # The searcher's tensors as variables: what a SavedModel stores and restores.
        self.state = searcher.serialize_to_module()
        pybind = scann_pybind_search.load_scann_pybind() if fast_path else None
        self._pybind = None
        if pybind is not None:
            # Eager searches use the pybind copy: the TF op's is freed first (one copy of the
            # catalogue less); `search(..., fast_path=False)` recreates it from `state`.
            tf.raw_ops.DestroyResourceOp(resource=searcher.searcher_handle)
            searcher = None
            try:
                self._pybind = scann_pybind_search.pybind_searcher_from_state(self.state, pybind)
            except (OSError, RuntimeError, ValueError) as error:
                warnings.warn(
                    f"ScaNN's pybind searcher could not be loaded ({error}); eager searches "
                    "use the TF op",
                    RuntimeWarning,
                    stacklevel=3,
                )
        self._searcher = searcher

    @property
    def has_fast_path(self) -> bool:
        return self._pybind is not None

    def search(
        self,
        queries: tf.Tensor,
        num_neighbors: tf.Tensor,
        leaves_to_search: int | None = None,
        pre_reorder_num_neighbors: int | tf.Tensor | None = None,
        *,
        fast_path: bool = True,
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """As `CandidateIndex.search`; `leaves_to_search` and `pre_reorder_num_neighbors`
        override the built config (for tuning).

        Eagerly, with `fast_path` and `has_fast_path`, a `[batch, dim]` float query array is
        searched by ScaNN's pybind searcher (the same index, the same results, no TF op);
        anything else (traced calls, `fast_path=False`, other shapes) goes through the TF op.
        """
        if not self.config.uses_partitioning:
            leaves_to_search = None  # no tree: every item is scored
        reordering = self.config.num_reordering_candidates
        if tf.executing_eagerly():
            num_neighbors, pre_reorder_num_neighbors = self._eager_depths(
                num_neighbors, pre_reorder_num_neighbors
            )
            if fast_path and self._pybind is not None:
                array = _query_array(queries, self.dim)
                if array is not None:
                    scores, rows = self._search_pybind(
                        array, num_neighbors, leaves_to_search, pre_reorder_num_neighbors
                    )
                    # Two eager tensors cost ~20 us, more than a tuned one-query search.
                    return tf.constant(scores), tf.constant(rows)
            return self._search_eagerly(
                queries, num_neighbors, leaves_to_search, pre_reorder_num_neighbors
            )
        num_neighbors = tf.convert_to_tensor(num_neighbors, tf.int32)
        if pre_reorder_num_neighbors is None and reordering is not None:
            # ScaNN returns at most the reordering depth: deepen it when more are asked for.
            pre_reorder_num_neighbors = tf.maximum(num_neighbors, reordering)
        batch_size = tf.shape(queries)[0]

        def run() -> tuple[tf.Tensor, tf.Tensor]:
            # Traced functions rebuild the searcher from the state variables, which is how
            # the SavedModel finds it after loading.
            searcher = self._scann_ops.searcher_from_module(self.state)
            result = searcher.search_batched(
                queries,
                final_num_neighbors=num_neighbors,
                pre_reorder_num_neighbors=pre_reorder_num_neighbors,
                leaves_to_search=leaves_to_search,
            )
            return _pad_columns(result.distances, result.indices, num_neighbors)

        def empty() -> tuple[tf.Tensor, tf.Tensor]:
            # ScaNN rejects an empty batch.
            return tf.zeros([0, num_neighbors], tf.float32), tf.zeros([0, num_neighbors], tf.int32)

        scores, rows = tf.cond(batch_size > 0, run, empty)
        if self.config.distance_measure == "squared_l2":
            scores = -scores
        return scores, rows

    def search_arrays(
        self,
        queries: np.ndarray,
        num_neighbors: int,
        leaves_to_search: int | None = None,
        pre_reorder_num_neighbors: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """`search` for numpy callers (eager only): `(scores, rows)` as numpy arrays.

        With `has_fast_path` a `[batch, dim]` float array goes to ScaNN's pybind searcher and
        back without any TensorFlow tensor (the cheapest one-query call: ~15 us on a tuned
        index here, against ~45 us for `search` and ~60 us through the TF op); otherwise
        this is `search(...)` converted to numpy.
        """
        if self._pybind is not None:
            array = _query_array(queries, self.dim)
            if array is not None:
                num_neighbors, pre_reorder_num_neighbors = self._eager_depths(
                    num_neighbors, pre_reorder_num_neighbors
                )
                if not self.config.uses_partitioning:
                    leaves_to_search = None  # no tree: every item is scored
                return self._search_pybind(
                    array, num_neighbors, leaves_to_search, pre_reorder_num_neighbors
                )
        scores, rows = self.search(
            queries, num_neighbors, leaves_to_search, pre_reorder_num_neighbors
        )
        return scores.numpy(), rows.numpy()

    def _eager_depths(
        self, num_neighbors: int | tf.Tensor, pre_reorder_num_neighbors: int | tf.Tensor | None
    ) -> tuple[int, int | None]:
        """`(num_neighbors, pre_reorder_num_neighbors)` as ints for an eager ScaNN call."""
        num_neighbors = int(num_neighbors)
        reordering = self.config.num_reordering_candidates
        if pre_reorder_num_neighbors is not None:
            return num_neighbors, int(pre_reorder_num_neighbors)
        if reordering is None:
            return num_neighbors, None
        # ScaNN returns at most the reordering depth: deepen it when more are asked for.
        return num_neighbors, max(num_neighbors, reordering)

    def _search_pybind(
        self,
        queries: np.ndarray,
        num_neighbors: int,
        leaves_to_search: int | None,
        pre_reorder_num_neighbors: int | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        if len(queries) == 0:  # ScaNN rejects an empty batch
            return np.zeros([0, num_neighbors], np.float32), np.zeros([0, num_neighbors], np.int32)
        distances, rows = scann_pybind_search.search_pybind(
            self._pybind, queries, num_neighbors, pre_reorder_num_neighbors, leaves_to_search
        )
        if self.config.distance_measure == "squared_l2":
            distances = -distances
        return distances, rows

    def _tf_searcher(self) -> Any:
        """The TF-op searcher for eager calls, recreated from `state` the first time it is
        needed when the fast path freed the one built."""
        if self._searcher is None:
            with self._lock:
                if self._searcher is None:
                    self._searcher = self._scann_ops.searcher_from_module(self.state)
        return self._searcher

    def _search_eagerly(
        self,
        queries: tf.Tensor,
        num_neighbors: int,
        leaves_to_search: int | None,
        pre_reorder_num_neighbors: int | tf.Tensor | None,
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`search` as one ScaNN op call: eagerly, `tf.cond` and the padding ops cost several
        times a one-query ScaNN search, so they only run when ScaNN left slots empty."""
        if np.shape(queries)[0] == 0:  # ScaNN rejects an empty batch
            return tf.zeros([0, num_neighbors], tf.float32), tf.zeros([0, num_neighbors], tf.int32)
        result = self._tf_searcher().search_batched(
            queries,
            final_num_neighbors=num_neighbors,
            pre_reorder_num_neighbors=pre_reorder_num_neighbors,
            leaves_to_search=leaves_to_search,
        )
        scores, rows = result.distances, result.indices
        if (
            scores.shape[1] != num_neighbors
            or rows.dtype != tf.int32
            or np.isnan(scores.numpy()).any()
        ):
            scores, rows = _pad_columns(scores, rows, tf.constant(num_neighbors))
        if self.config.distance_measure == "squared_l2":
            scores = -scores
        return scores, rows


def _query_array(queries: object, dim: int) -> np.ndarray | None:
    """`queries` as a C-contiguous `[batch, dim]` float32 array, or None when they are not
    one (the TF op then gets them and reports what is wrong, as before)."""
    if isinstance(queries, np.ndarray):
        # Other float widths: cast as the TF op's input conversion casts them (float32 is
        # passed on as it is: ScaNN only reads it).
        array = queries.astype(np.float32, copy=False) if queries.dtype.kind == "f" else queries
    elif isinstance(queries, tf.Tensor):
        if queries.dtype != tf.float32:
            return None
        array = queries.numpy()
    else:
        try:
            array = np.asarray(queries, np.float32)
        except (TypeError, ValueError):
            return None
    if array.dtype != np.float32 or array.ndim != 2 or array.shape[1] != dim:
        return None
    return np.ascontiguousarray(array)


def _pad_columns(
    distances: tf.Tensor, indices: tf.Tensor, num_neighbors: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """Marks slots ScaNN left empty (NaN, or missing columns) as score -inf, row -1."""
    valid = ~tf.math.is_nan(distances)
    scores = tf.where(valid, distances, -np.inf)
    rows = tf.where(valid, tf.cast(indices, tf.int32), -1)
    missing = tf.maximum(num_neighbors - tf.shape(scores)[1], 0)
    scores = tf.pad(scores, [[0, 0], [0, missing]], constant_values=-np.inf)
    rows = tf.pad(rows, [[0, 0], [0, missing]], constant_values=-1)
    return scores[:, :num_neighbors], rows[:, :num_neighbors]


def build_index(embeddings: np.ndarray, config: IndexConfig | None = None) -> CandidateIndex:
    """Builds the index over `[num_items, embedding_dim]` candidate embeddings.

    The config is first adapted to the catalogue size (`IndexConfig.adapted_to`). A ScaNN
    config falls back to brute force, with a `ScannUnavailableWarning`, when `scann` cannot be
    imported.

    Args:
        embeddings: `[num_items, embedding_dim]` float32, one row per catalogue item.
        config: defaults to `IndexConfig()` (ScaNN).

    Returns:
        A `ScannIndex` or a `BruteForceIndex`; its `config` is what was built.
    """
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or len(embeddings) == 0:
        raise ValueError(
            f"candidate embeddings must be [num_items >= 1, embedding_dim], got {embeddings.shape}"
        )
    config = (config or IndexConfig()).adapted_to(len(embeddings))
    if config.kind == "brute_force":
        return BruteForceIndex(embeddings, config)
    try:
        scann_ops = load_scann_ops()
    except ImportError as error:
        warnings.warn(
            f"ScaNN is unavailable ({error}); building an exact brute-force index instead. "
            f"To use ScaNN, {SCANN_INSTALL_HINT}.",
            ScannUnavailableWarning,
            stacklevel=2,
        )
        return BruteForceIndex(embeddings, config)
    return ScannIndex(embeddings, config, scann_ops)
