"""`tune_index`: measure ScaNN configurations against exact brute force; pick the fastest.

For each `num_leaves` of the grid one ScaNN index is built; the leaves searched and the
candidates reordered are then varied at query time (ScaNN's own tuning procedure), so the
grid costs one build per `num_leaves`. Every configuration's recall@k against exact
BruteForce neighbours and its throughput on the held-out queries are recorded; exact brute
force is measured as one more configuration (recall 1.0), so a small catalogue where it is
fastest gets it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from tfrs_mtl.serving.candidate_index import (
    SCANN_INSTALL_HINT,
    BruteForceIndex,
    ScannIndex,
    ScannUnavailableWarning,
    load_scann_ops,
)
from tfrs_mtl.serving.index_config import IndexConfig

if TYPE_CHECKING:
    import pandas as pd

# Floats of brute force's score matrix per call while tuning (256 MiB).
_SCORE_BUDGET = 64 * 2**20


@dataclasses.dataclass(frozen=True)
class IndexMeasurement:
    """One measured configuration: recall@k, queries per second, and the tree's build time."""

    config: IndexConfig
    recall: float
    queries_per_second: float
    build_seconds: float


@dataclasses.dataclass(frozen=True)
class TuningResult:
    """Everything `tune_index` measured, and its choice.

    Attributes:
        target_recall: the recall@k asked for.
        k: the k of recall@k.
        num_queries: held-out queries measured.
        measurements: every configuration measured, brute force first.
        best: the fastest configuration meeting the target; exact brute force (recall 1.0)
            is one of the candidates, so there always is one.
    """

    target_recall: float
    k: int
    num_queries: int
    measurements: tuple[IndexMeasurement, ...]
    best: IndexConfig

    def best_measurement(self) -> IndexMeasurement:
        return next(m for m in self.measurements if m.config == self.best)

    def to_frame(self) -> pd.DataFrame:
        """One row per configuration: kind, leaves, leaves searched, reordering, recall, QPS."""
        import pandas as pd

        return pd.DataFrame.from_records(
            [
                {
                    "kind": m.config.kind,
                    "num_leaves": m.config.num_leaves if m.config.kind == "scann" else None,
                    "num_leaves_to_search": (
                        m.config.num_leaves_to_search if m.config.kind == "scann" else None
                    ),
                    "num_reordering_candidates": (
                        m.config.num_reordering_candidates if m.config.kind == "scann" else None
                    ),
                    "recall": m.recall,
                    "queries_per_second": m.queries_per_second,
                    "build_seconds": m.build_seconds,
                    "chosen": m.config == self.best,
                }
                for m in self.measurements
            ]
        )


def tune_index(
    candidate_embeddings: np.ndarray,
    query_embeddings: np.ndarray,
    *,
    target_recall: float = 0.95,
    k: int = 10,
    base_config: IndexConfig | None = None,
    num_leaves: Sequence[int] | None = None,
    leaves_to_search_fractions: Sequence[float] = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4),
    num_reordering_candidates: Sequence[int] | None = None,
    repeats: int = 3,
    progress: bool = True,
) -> TuningResult:
    """Finds the fastest ScaNN configuration whose recall@k meets `target_recall`.

    Args:
        candidate_embeddings: `[num_items, embedding_dim]`
            (e.g. `Recommender.candidate_embeddings`).
        query_embeddings: `[num_queries, embedding_dim]` held-out queries
            (e.g. `Recommender.encode_queries(held_out_features)`).
        target_recall: recall@k against exact brute force to reach, in (0, 1].
        k: neighbours compared.
        base_config: the fields not tuned (distance, dimensions per block, training sizes).
        num_leaves: trees to build; default `(√n, 2√n)` rounded, each adapted to the
            catalogue by `IndexConfig.adapted_to`.
        leaves_to_search_fractions: leaves searched, as fractions of `num_leaves` (rounded up).
        num_reordering_candidates: exact rescoring depths; default `(2k, 10k, 25k)`, clipped to
            the catalogue.
        repeats: timing runs per configuration; the fastest counts (a noisy machine slows
            runs, it never speeds them up).
        progress: show a progress bar.

    Returns:
        A `TuningResult` listing every configuration measured. Without `scann` only brute
        force is measured (with a `ScannUnavailableWarning`).
    """
    candidates = np.asarray(candidate_embeddings, np.float32)
    queries = np.asarray(query_embeddings, np.float32)
    if not 0.0 < target_recall <= 1.0:
        raise ValueError(f"target_recall={target_recall} must be in (0, 1]")
    if not 1 <= k <= len(candidates):
        raise ValueError(f"k={k} must be between 1 and the catalogue size {len(candidates)}")
    if len(queries) == 0:
        raise ValueError("tune_index needs at least one held-out query")
    # The grid measures trees on purpose: they stay trees on catalogues of any size, and the
    # chosen config builds the tree that was measured.
    base = (base_config or IndexConfig()).replace(kind="scann", min_items_to_partition=1)
    exact = BruteForceIndex(candidates, base)
    # Brute force scores [queries, items] at once: in chunks, a 1M catalogue stays in memory.
    chunk = max(1, _SCORE_BUDGET // len(candidates))

    def exact_search() -> np.ndarray:
        return np.concatenate(
            [
                exact.search(queries[start : start + chunk], k)[1].numpy()
                for start in range(0, len(queries), chunk)
            ]
        )

    exact_rows = exact_search()
    measurements = [
        IndexMeasurement(
            config=base.replace(kind="brute_force"),
            recall=1.0,
            queries_per_second=_queries_per_second(exact_search, len(queries), repeats),
            build_seconds=0.0,
        )
    ]
    try:
        scann_ops = load_scann_ops()
    except ImportError as error:
        warnings.warn(
            f"ScaNN is unavailable ({error}); only brute force was measured. {SCANN_INSTALL_HINT}.",
            ScannUnavailableWarning,
            stacklevel=2,
        )
        scann_ops = None
    if scann_ops is not None:
        grid = _grid(
            len(candidates),
            k,
            base,
            num_leaves,
            leaves_to_search_fractions,
            num_reordering_candidates,
        )
        with tqdm(
            total=sum(len(v) for v in grid.values()), desc="Tuning index", disable=not progress
        ) as bar:
            for leaves, settings in grid.items():
                deepest = max(reordering for _, reordering in settings)
                start = time.perf_counter()
                index = ScannIndex(
                    candidates,
                    base.replace(
                        num_leaves=leaves, num_leaves_to_search=1, num_reordering_candidates=deepest
                    ),
                    scann_ops,
                )
                build_seconds = time.perf_counter() - start
                for to_search, reordering in settings:
                    search = functools.partial(index.search, queries, k, to_search, reordering)
                    rows = search()[1].numpy()
                    measurements.append(
                        IndexMeasurement(
                            config=base.replace(
                                num_leaves=leaves,
                                num_leaves_to_search=to_search,
                                num_reordering_candidates=reordering,
                            ),
                            recall=_recall(rows, exact_rows),
                            queries_per_second=_queries_per_second(search, len(queries), repeats),
                            build_seconds=build_seconds,
                        )
                    )
                    bar.update()
    # Brute force (recall 1.0) always qualifies, so there is always a choice.
    chosen = max(
        (m for m in measurements if m.recall >= target_recall),
        key=lambda m: (m.queries_per_second, m.recall),
    )
    return TuningResult(
        target_recall=target_recall,
        k=k,
        num_queries=len(queries),
        measurements=tuple(measurements),
        best=chosen.config,
    )


def _grid(
    num_items: int,
    k: int,
    base: IndexConfig,
    num_leaves: Sequence[int] | None,
    fractions: Sequence[float],
    reorderings: Sequence[int] | None,
) -> dict[int, list[tuple[int, int]]]:
    """`{num_leaves: [(num_leaves_to_search, num_reordering_candidates), ...]}`."""
    if num_leaves is None:
        root = max(1, round(math.sqrt(num_items)))
        num_leaves = (root, 2 * root)
    if reorderings is None:
        reorderings = (2 * k, 10 * k, 25 * k)
    depths = sorted({min(max(depth, k), num_items) for depth in reorderings})
    grid: dict[int, list[tuple[int, int]]] = {}
    for requested in num_leaves:
        leaves = (
            base.replace(num_leaves=requested, num_leaves_to_search=1)
            .adapted_to(num_items)
            .num_leaves
        )
        searched = sorted({min(leaves, max(1, math.ceil(f * leaves))) for f in fractions})
        grid[leaves] = [(s, depth) for s in searched for depth in depths]
    return grid


def _recall(approximate_rows: np.ndarray, exact_rows: np.ndarray) -> float:
    hits = [len(set(a) & set(e)) for a, e in zip(approximate_rows, exact_rows, strict=True)]
    return float(np.sum(hits) / exact_rows.size)


def _queries_per_second(
    search: Callable[[], Any], num_queries: int, repeats: int, min_seconds: float = 0.05
) -> float:
    """Best of `repeats` runs, each repeating the batch for at least `min_seconds`."""
    tf.nest.map_structure(np.asarray, search())  # warm-up
    best = math.inf
    for _ in range(max(1, repeats)):
        calls, start = 0, time.perf_counter()
        while True:
            tf.nest.map_structure(np.asarray, search())
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / calls)
    return num_queries / best
