"""Nearest-neighbour methods measured by `ann.py`: one `Searcher` per index and query setting.

Every method answers the same two calls: `one(query)` for a `[1, dim]` query (one call per
query, as a server does) and `batch(queries)` for `[num_queries, dim]`; both return catalogue
rows `[batch, k]`. Builds are grouped per index so that query-time settings (leaves searched,
reordering depth, nprobe, ef) share one build, as ScaNN's and faiss's own tuning do.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import tensorflow as tf

from tfrs_mtl.serving import IndexConfig, ScannIndex, build_index

Rows = np.ndarray
# Where peers' indexes are saved and loaded again (`ann.py --index-cache`); None: always built.
INDEX_CACHE: Path | None = None
# The exact search's score matrix is kept under this many floats per call (256 MiB).
SCORE_BUDGET = 64 * 2**20


@dataclasses.dataclass
class Searcher:
    """One measurable point: a family, its settings, and how to query it."""

    family: str
    settings: dict[str, Any]
    one: Callable[[np.ndarray], Rows]
    batch: Callable[[np.ndarray], Rows]
    build_seconds: float
    index_bytes: int
    notes: str = ""
    one_traced: Callable[[np.ndarray], Rows] | None = None
    prepare: Callable[[], None] = lambda: None  # sets a shared index's query-time knobs


def optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def exact_rows(candidates: np.ndarray, queries: np.ndarray, k: int) -> Rows:
    """Ground truth: exact top-k by inner product (faiss IndexFlatIP, else numpy)."""
    faiss = optional_module("faiss")
    if faiss is not None:
        flat = faiss.IndexFlatIP(candidates.shape[1])
        flat.add(candidates)
        return flat.search(queries, k)[1]
    chunk = max(1, SCORE_BUDGET // len(candidates))
    parts = []
    for start in range(0, len(queries), chunk):
        scores = queries[start : start + chunk] @ candidates.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        parts.append(np.take_along_axis(top, order, axis=1))
    return np.concatenate(parts)


def _cached(
    name: str,
    candidates: np.ndarray,
    build: Callable[[], Any],
    save: Callable[[Any, str], None],
    load: Callable[[str], Any],
) -> tuple[Any, float, str]:
    """`(index, build_seconds, note)`: built, or loaded from `INDEX_CACHE` when an earlier
    run with the same catalogue saved it (its build time is the recorded one)."""
    if INDEX_CACHE is None:
        start = time.perf_counter()
        index = build()
        return index, time.perf_counter() - start, ""
    digest = hashlib.sha256(np.ascontiguousarray(candidates).tobytes()).hexdigest()[:16]
    path = INDEX_CACHE / f"{name}-{len(candidates)}x{candidates.shape[1]}-{digest}.index"
    meta = path.with_suffix(".json")
    if meta.exists():
        recorded = json.loads(meta.read_text())
        return (
            load(str(path)),
            recorded["build_seconds"],
            "; loaded from --index-cache (build s: when it was built)",
        )
    start = time.perf_counter()
    index = build()
    seconds = time.perf_counter() - start
    INDEX_CACHE.mkdir(parents=True, exist_ok=True)
    save(index, str(path))
    meta.write_text(json.dumps({"build_seconds": seconds, "load_average": os.getloadavg()}))
    return index, seconds, ""


def _rows(result: Any) -> Rows:
    return np.asarray(result[1])


def _call_rows(search: Callable[[np.ndarray], Any], queries: np.ndarray) -> Rows:
    return _rows(search(queries))


def _pybind_one(searcher: Any, arguments: dict[str, int], query: np.ndarray) -> Rows:
    return np.asarray(searcher.search(query[0], **arguments)[0])[np.newaxis]


def _pybind_batch(searcher: Any, arguments: dict[str, int], queries: np.ndarray) -> Rows:
    return np.asarray(searcher.search_batched(queries, **arguments)[0])


def _tf_function(search: Callable[[tf.Tensor], Any], dim: int) -> Callable[[np.ndarray], Rows]:
    """The call the serving graph makes: a traced function over `[None, dim]` queries."""
    traced = tf.function(search, input_signature=[tf.TensorSpec([None, dim], tf.float32)])
    return lambda queries: _rows(traced(queries))


def brute_force(candidates: np.ndarray, k: int) -> Iterator[Searcher]:
    """TFRS BruteForce through `build_index(kind="brute_force")`, the library's exact oracle."""
    start = time.perf_counter()
    index = build_index(candidates, IndexConfig(kind="brute_force"))
    seconds = time.perf_counter() - start
    chunk = max(1, SCORE_BUDGET // len(candidates))

    def one(queries: np.ndarray) -> Rows:
        return _rows(index.search(queries, k))

    def batch(queries: np.ndarray) -> Rows:
        return np.concatenate(
            [one(queries[start : start + chunk]) for start in range(0, len(queries), chunk)]
        )

    yield Searcher(
        "tfrs_brute_force",
        {},
        one,
        batch,
        seconds,
        candidates.nbytes,
        f"batched in calls of {chunk} queries (score matrix <= 256 MiB)",
        _tf_function(lambda queries: index.search(queries, k), candidates.shape[1]),
    )


def scann_state_bytes(index: ScannIndex) -> int:
    return int(sum(np.asarray(v.numpy()).nbytes for v in index.state.variables))


def library_scann(
    candidates: np.ndarray,
    k: int,
    points: list[tuple[IndexConfig, str]],
    families: tuple[str, ...] = ("scann_library", "scann_library_fast", "scann_library_arrays"),
) -> Iterator[Searcher]:
    """The library's ScaNN index: one build per `num_leaves` (at the deepest reordering);
    leaves searched and reordering depth vary at query time, as `tune_index` measures them.

    Each point is measured as `scann_library` (eager `index.search(..., fast_path=False)`:
    one TF-op call) and as `scann_library_fast` (eager `index.search`, the default: ScaNN's
    pybind searcher over the same index, results as tensors) and `scann_library_arrays`
    (`index.search_arrays`: the same, numpy in and out), as far as `families` asks."""
    dim = candidates.shape[1]
    labels: dict[IndexConfig, list[str]] = {}
    for config, label in points:
        labels.setdefault(config.adapted_to(len(candidates)), []).append(label)
    # One build per tree: configs differing only in query-time settings share it.
    by_tree: dict[IndexConfig, list[tuple[IndexConfig, str]]] = {}
    for config, names in labels.items():
        tree = config.replace(num_leaves_to_search=1, num_reordering_candidates=None)
        by_tree.setdefault(tree, []).append((config, "+".join(names)))
    for tree, configs in by_tree.items():
        leaves = tree.num_leaves
        deepest = max(c.num_reordering_candidates or k for c, _ in configs)
        start = time.perf_counter()
        index = build_index(
            candidates,
            configs[0][0].replace(num_reordering_candidates=deepest, num_leaves_to_search=1),
        )
        seconds = time.perf_counter() - start
        assert isinstance(index, ScannIndex), "scann is not importable"
        size = scann_state_bytes(index)
        for config, label in configs:
            to_search = config.num_leaves_to_search if leaves > 1 else None
            depth = config.num_reordering_candidates or k
            settings = {
                "num_leaves": leaves,
                "num_leaves_to_search": config.num_leaves_to_search,
                "num_reordering_candidates": depth,
                "spherical": config.use_spherical_partitioning,
                "label": label,
            }

            def search(
                queries: Any,
                to_search: Any = to_search,
                depth: int = depth,
                index: Any = index,
                fast_path: bool = False,
            ) -> Any:
                return index.search(queries, k, to_search, depth, fast_path=fast_path)

            if "scann_library" in families:
                yield Searcher(
                    "scann_library",
                    settings,
                    functools.partial(_call_rows, search),
                    functools.partial(_call_rows, search),
                    seconds,
                    size,
                    "eager index.search(fast_path=False) (one ScaNN TF-op call); traced = "
                    "inside a tf.function",
                    _tf_function(search, dim),
                )

            def arrays(
                queries: np.ndarray,
                to_search: Any = to_search,
                depth: int = depth,
                index: Any = index,
            ) -> Rows:
                return index.search_arrays(queries, k, to_search, depth)[1]

            if "scann_library_arrays" in families and index.has_fast_path:
                yield Searcher(
                    "scann_library_arrays",
                    settings,
                    arrays,
                    arrays,
                    seconds,
                    size,
                    "eager index.search_arrays: numpy in and out, ScaNN's pybind searcher",
                )
            if "scann_library_fast" in families and index.has_fast_path:
                fast = functools.partial(search, fast_path=True)
                yield Searcher(
                    "scann_library_fast",
                    settings,
                    functools.partial(_call_rows, fast),
                    functools.partial(_call_rows, fast),
                    seconds,
                    size,
                    "eager index.search (default): ScaNN's pybind searcher over the same index",
                )


def raw_scann(
    candidates: np.ndarray, k: int, points: list[tuple[int, int, int]], threads: int
) -> Iterator[Searcher]:
    """ScaNN's own Python API (`scann_ops_pybind`, no TensorFlow) with the library's build
    settings: spherical tree(min_partition_size=1) + AH(2 dims/block, threshold 0.2) +
    reorder."""
    scann = optional_module("scann")
    if scann is None:
        return
    by_leaves: dict[int, list[tuple[int, int]]] = {}
    for leaves, to_search, depth in points:
        by_leaves.setdefault(leaves, []).append((to_search, depth))
    for leaves, settings in by_leaves.items():
        start = time.perf_counter()
        searcher = (
            scann.scann_ops_pybind.builder(candidates, k, "dot_product")
            .tree(
                num_leaves=leaves,
                num_leaves_to_search=settings[0][0],
                training_sample_size=min(100_000, len(candidates)),
                min_partition_size=1,
                spherical=True,
            )
            .score_ah(2, anisotropic_quantization_threshold=0.2)
            .reorder(max(depth for _, depth in settings))
            .set_n_training_threads(threads)
            .build()
        )
        seconds = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as folder:
            searcher.serialize(folder)
            size = sum(path.stat().st_size for path in Path(folder).iterdir())
        for to_search, depth in settings:
            arguments = {
                "final_num_neighbors": k,
                "pre_reorder_num_neighbors": depth,
                "leaves_to_search": to_search,
            }
            yield Searcher(
                "scann_pybind",
                {"num_leaves": leaves, "num_leaves_to_search": to_search, "reordering": depth},
                functools.partial(_pybind_one, searcher, arguments),
                functools.partial(_pybind_batch, searcher, arguments),
                seconds,
                size,
                f"built with {threads} thread(s); search_batched (one thread)",
            )


def _faiss_bytes(faiss: ModuleType, index: Any) -> int:
    return int(faiss.serialize_index(index).nbytes)


def faiss_ivfpq(
    candidates: np.ndarray,
    k: int,
    nprobes: tuple[int, ...],
    k_factors: tuple[int, ...],
    threads: int,
) -> Iterator[Searcher]:
    """faiss IVF + 4-bit PQ fast scan (2 dims per code) + exact refinement (IndexRefineFlat)."""
    faiss = optional_module("faiss")
    if faiss is None:
        return
    num_items, dim = candidates.shape
    nlist = max(1, round(math.sqrt(num_items)))
    key = f"IVF{nlist},PQ{dim // 2}x4fs,RFlat"
    faiss.omp_set_num_threads(threads)

    def build() -> Any:
        index = faiss.index_factory(dim, key, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).permutation(num_items)[: min(num_items, 100_000)]
        index.train(candidates[sample])
        index.add(candidates)
        return index

    index, seconds, cached = _cached(
        f"faiss-{key}", candidates, build, faiss.write_index, faiss.read_index
    )
    faiss.omp_set_num_threads(1)
    size = _faiss_bytes(faiss, index)
    ivf = faiss.extract_index_ivf(index)

    def search(queries: np.ndarray) -> Rows:
        return index.search(queries, k)[1]

    for nprobe in nprobes:
        for k_factor in k_factors:

            def configure(nprobe: int = min(nprobe, nlist), k_factor: int = k_factor) -> None:
                ivf.nprobe = nprobe
                index.k_factor = k_factor

            yield Searcher(
                "faiss_ivfpq_fastscan",
                {"index": key, "nprobe": min(nprobe, nlist), "k_factor": k_factor},
                search,
                search,
                seconds,
                size,
                f"built with {threads} thread(s){cached}; reorder depth = k * k_factor",
                prepare=configure,
            )


def faiss_hnsw(
    candidates: np.ndarray, k: int, efs: tuple[int, ...], threads: int, m: int = 16
) -> Iterator[Searcher]:
    faiss = optional_module("faiss")
    if faiss is None:
        return
    faiss.omp_set_num_threads(threads)

    def build() -> Any:
        index = faiss.IndexHNSWFlat(candidates.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 100
        index.add(candidates)
        return index

    index, seconds, cached = _cached(
        f"faiss-HNSW{m}", candidates, build, faiss.write_index, faiss.read_index
    )
    faiss.omp_set_num_threads(1)
    size = _faiss_bytes(faiss, index)

    def search(queries: np.ndarray) -> Rows:
        return index.search(queries, k)[1]

    for ef in efs:

        def configure(ef: int = ef) -> None:
            index.hnsw.efSearch = ef

        yield Searcher(
            "faiss_hnsw",
            {"M": m, "efConstruction": 100, "efSearch": ef},
            search,
            search,
            seconds,
            size,
            f"built with {threads} thread(s){cached}",
            prepare=configure,
        )


def hnswlib_index(
    candidates: np.ndarray, k: int, efs: tuple[int, ...], threads: int, m: int = 16
) -> Iterator[Searcher]:
    hnswlib = optional_module("hnswlib")
    if hnswlib is None:
        return
    num_items, dim = candidates.shape

    def build() -> Any:
        index = hnswlib.Index(space="ip", dim=dim)
        index.init_index(max_elements=num_items, M=m, ef_construction=100, random_seed=0)
        index.set_num_threads(threads)
        index.add_items(candidates, np.arange(num_items))
        return index

    def load(path: str) -> Any:
        index = hnswlib.Index(space="ip", dim=dim)
        index.load_index(path, max_elements=num_items)
        return index

    index, seconds, cached = _cached(
        f"hnswlib-M{m}", candidates, build, lambda index, path: index.save_index(path), load
    )
    index.set_num_threads(1)
    size = int(index.index_file_size())

    def query(queries: np.ndarray) -> Rows:
        return index.knn_query(queries, k=k)[0]

    for ef in efs:
        yield Searcher(
            "hnswlib",
            {"M": m, "ef_construction": 100, "ef": max(ef, k)},
            query,
            query,
            seconds,
            size,
            f"built with {threads} thread(s){cached}",
            prepare=functools.partial(index.set_ef, max(ef, k)),
        )


def available_peers() -> dict[str, bool]:
    return {name: optional_module(name) is not None for name in ("faiss", "hnswlib", "scann")}


def cpu_threads_note() -> str:
    return f"{os.cpu_count()} cores; queries use 1 thread everywhere"
