"""Nearest-neighbour search: the library's ScaNN index against exact search and its peers.

    .venv/bin/python benchmarks/ann.py [--sizes 100000 1000000] [--queries 1000] [--quick]

Parts measured separately merge with `--merge part/ann.json ...` (same seeds, so the same
catalogues, queries and ground truth in every part).

`results/ann_1m.*` (and `ann_1m_recall_qps.png`) compare the library's index at 1M items
with its peers, every family in one invocation, the peers' slow HNSW builds loaded from an
earlier run's `--index-cache`, with the dense grid around recall 0.95 (`Grid.dense`):

    .venv/bin/python benchmarks/ann.py --sizes 1000000 --no-movielens --tuning-queries 300 \
        --families tfrs_brute_force scann_library scann_library_fast scann_library_arrays \
        faiss_ivfpq_fastscan faiss_hnsw hnswlib --nprobes 1 2 4 8 --k-factors 25 35 50 100 \
        --index-cache /tmp/ann1m/cache --out /tmp/ann1m/run

and its `ann.*` files renamed `ann_1m.*`.

Catalogues: synthetic clustered N x 64 (1,000 Gaussian centres, noise 0.5; held-out queries
from the same distribution) and the item embeddings of a default joint model trained on
MovieLens-100K in the same run (1,682 items; queries are the 943 users' query embeddings).
For every method and setting: recall@10 against exact search (faiss IndexFlatIP), single-query
QPS (one query per call, 1 / median latency over `--queries` calls after warm-up), batched QPS
(`--batch-size` queries per call, best of 3), build time and index bytes. Every query runs on
one thread (TensorFlow intra/inter-op 1, faiss OMP 1, hnswlib 1). The ScaNN tuned points come
from `tune_index` on separate tuning queries. Results: `ann.json`, `ann.md` and
`ann_recall_qps.png` under `--out` (default benchmarks/results). Fixed seeds; the machine may
be shared, so ratios measured in one run are what hold.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import ann_methods as methods
import numpy as np
import tensorflow as tf
from ann_report import markdown, plot, targets

from tfrs_mtl.serving import IndexConfig, tune_index

K = 10
RESULTS = Path(__file__).parent / "results"
TUNED_RECALLS = (0.90, 0.95, 0.98)
TRACED_CALLS = 300
FAMILIES = (
    "tfrs_brute_force",
    "scann_library",
    "scann_library_fast",
    "scann_library_arrays",
    "scann_pybind",
    "faiss_ivfpq_fastscan",
    "faiss_hnsw",
    "hnswlib",
)


@dataclasses.dataclass(frozen=True)
class Grid:
    """The settings measured: `tune_index`'s grid (None: its defaults), the manual ScaNN points
    (fractions of sqrt(N) leaves searched x reordering depths), the dense ScaNN points around
    recall 0.95 and the peers' query knobs.

    `dense` holds `(num_leaves / sqrt(N), leaves searched as fractions of num_leaves,
    reordering depths)`. On the clustered 1M catalogue recall@10 crosses 0.95 between 5 and
    10 of 1,000 leaves searched (reordering 100), and one process's build lands either side
    of it at 5, so the points in between are measured. On 2,000 leaves the residual AH codes
    are finer: 3-4 leaves searched and 50-70 reordered already pass 0.95 (on the tuning
    queries), below the 10 leaves and 100 reordered `tune_index` starts from. The points
    share the builds of the manual grid (1 x sqrt(N) leaves) and of `tune_index`'s trees
    (2 x sqrt(N)): one build per `num_leaves`. The HNSW `efs` are likewise dense between 16
    and 64, where their recall crosses 0.95.
    """

    tuning: dict[str, Any] = dataclasses.field(default_factory=dict)
    leaves_fractions: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05, 0.1)
    reorderings: tuple[int, ...] = (100, 250)
    dense: tuple[tuple[float, tuple[float, ...], tuple[int, ...]], ...] = (
        (1.0, (0.005, 0.006, 0.007, 0.008), (100, 150)),
        (2.0, (0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005), (50, 70, 100)),
    )
    nprobes: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    k_factors: tuple[int, ...] = (10, 25, 100)
    efs: tuple[int, ...] = (10, 16, 24, 28, 32, 40, 48, 64, 128, 256)
    build_threads: int = 2


QUICK = Grid(
    tuning={
        "leaves_to_search_fractions": (0.1, 0.5),
        "num_reordering_candidates": (100,),
        "repeats": 1,
    },
    leaves_fractions=(0.1,),
    reorderings=(100,),
    dense=(),
    nprobes=(8, 32),
    k_factors=(25,),
    efs=(16, 64),
    build_threads=1,
)


def clustered(num_points: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Points around 1,000 fixed Gaussian centres (the same centres for every call)."""
    centres = np.random.default_rng(0).normal(size=(1000, dim))
    labels = rng.integers(len(centres), size=num_points)
    return (centres[labels] + 0.5 * rng.normal(size=(num_points, dim))).astype(np.float32)


def recall(rows: np.ndarray, exact: np.ndarray) -> float:
    hits = [len(set(a) & set(e)) for a, e in zip(rows.tolist(), exact.tolist(), strict=True)]
    return float(np.sum(hits) / exact.size)


def single_query_qps(
    one: Any, queries: np.ndarray, calls: int, prefix: str = "single"
) -> dict[str, float]:
    """One query per call, `calls` calls after 20 warm-up calls: 1 / median latency; also by
    this process's CPU time per call (`*_cpu_qps`, the json only), which the time other
    processes take the core away from a call does not count in."""
    for query in queries[:20]:
        one(query[np.newaxis])
    times, cpu_times = [], []
    for i in range(calls):
        query = queries[i % len(queries)][np.newaxis]
        start_cpu = time.process_time()
        start = time.perf_counter()
        one(query)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
    median = float(np.median(times))
    return {
        f"{prefix}_qps": 1.0 / median,
        f"{prefix}_median_ms": median * 1e3,
        f"{prefix}_p99_ms": float(np.percentile(times, 99)) * 1e3,
        f"{prefix}_cpu_qps": 1.0 / max(float(np.median(cpu_times)), 1e-9),
    }


def batched_qps(searcher: methods.Searcher, queries: np.ndarray, repeats: int = 3) -> dict:
    """Queries per second of whole-batch calls, best of `repeats`: by wall clock, and by this
    process's CPU time (every query runs on one thread, so CPU time is the work done, without
    the time other processes on the shared machine took the core away)."""
    wall, cpu = np.inf, np.inf
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        searcher.batch(queries)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return {"batched_qps": len(queries) / max(cpu, 1e-9), "batched_wall_qps": len(queries) / wall}


def measure(
    searcher: methods.Searcher,
    queries: np.ndarray,
    exact: np.ndarray,
    calls: int,
    batch_size: int,
) -> dict[str, Any]:
    searcher.prepare()
    rows = searcher.batch(queries)
    point = {
        "family": searcher.family,
        "settings": searcher.settings,
        "recall_at_10": recall(np.asarray(rows), exact),
        "build_seconds": searcher.build_seconds,
        "index_bytes": searcher.index_bytes,
        "notes": searcher.notes,
    }
    point.update(single_query_qps(searcher.one, queries, calls))
    if searcher.one_traced is not None:
        point.update(single_query_qps(searcher.one_traced, queries, TRACED_CALLS, "traced_single"))
    point.update(batched_qps(searcher, queries[:batch_size]))
    return point


def scann_points(tuning: Any, num_items: int, grid: Grid) -> list[tuple[IndexConfig, str]]:
    """The tuned choice at each recall target, the default `IndexConfig()`, a manual grid
    on the sqrt(N) tree and the dense points around recall 0.95 (`Grid.dense`)."""
    points: list[tuple[IndexConfig, str]] = []
    for target in TUNED_RECALLS:
        passing = [m for m in tuning.measurements if m.recall >= target]
        best = max(passing, key=lambda m: (m.queries_per_second, m.recall))
        if best.config.kind == "scann":
            points.append((best.config, f"tuned@{target:.2f}"))
    points.append((IndexConfig(), "default"))
    leaves = max(1, round(np.sqrt(num_items)))
    for fraction in grid.leaves_fractions:
        to_search = max(1, round(fraction * leaves))
        for depth in grid.reorderings:
            config = IndexConfig(
                num_leaves=leaves,
                num_leaves_to_search=to_search,
                num_reordering_candidates=depth,
                min_items_to_partition=1,  # a tree on any catalogue: this grid measures trees
            )
            points.append((config, "manual"))
        # ScaNN's generic (L2) k-means leaves, the library's build before spherical leaves.
        generic = config.replace(use_spherical_partitioning=False, num_reordering_candidates=100)
        points.append((generic, "generic leaves"))
    for multiple, fractions, depths in grid.dense:
        dense_leaves = max(1, round(multiple * leaves))
        for fraction in fractions:
            for depth in depths:
                config = IndexConfig(
                    num_leaves=dense_leaves,
                    num_leaves_to_search=max(1, round(fraction * dense_leaves)),
                    num_reordering_candidates=depth,
                    min_items_to_partition=1,  # as the manual grid's and tune_index's trees
                )
                points.append((config, "dense"))
    return points


def run_catalogue(
    name: str,
    candidates: np.ndarray,
    queries: np.ndarray,
    tuning_queries: np.ndarray,
    *,
    calls: int,
    batch_size: int,
    grid: Grid = Grid(),
    extra_scann: tuple[IndexConfig, ...] = (),
    families: tuple[str, ...] | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Measures every method on one catalogue.

    Args:
        name: the catalogue's title.
        candidates: `[num_items, dim]` float32.
        queries: `[num_queries, dim]` evaluation queries.
        tuning_queries: `[num_tuning, dim]` queries `tune_index` tunes on (held out from
            `queries`).
        calls: single-query calls timed per point.
        batch_size: queries per batched call.
        grid: the settings measured.
        extra_scann: more library ScaNN configs to measure (e.g. an exhaustive one).
        families: measure only these method families (None: all); `tune_index` runs only
            with a `scann_library*` family.
        log: progress lines.

    Returns:
        `{"name", "num_items", "dim", ..., "skipped": [family], "points": [point]}`, a point
        being `{"family", "settings", "recall_at_10", "single_qps", "batched_qps",
        "build_seconds", "index_bytes", ...}`.
    """
    num_items, dim = candidates.shape
    log(f"[{name}] exact ground truth for {len(queries)} queries")
    exact = methods.exact_rows(candidates, queries, K)
    log(f"[{name}] tune_index on {len(tuning_queries)} tuning queries")
    wanted = FAMILIES if families is None else families
    tuning_grid: list[dict[str, Any]] = []
    tuning_seconds = 0.0
    scann_configs: list[tuple[IndexConfig, str]] = []
    library = tuple(f for f in FAMILIES if f.startswith("scann_library") and f in wanted)
    if library:
        start = time.perf_counter()
        tuning = tune_index(
            candidates, tuning_queries, target_recall=0.95, k=K, progress=False, **grid.tuning
        )
        tuning_seconds = time.perf_counter() - start
        tuning_grid = json.loads(tuning.to_frame().to_json(orient="records"))
        scann_configs = scann_points(tuning, num_items, grid)
        scann_configs += [(c, "extra") for c in extra_scann]
    root = max(1, round(np.sqrt(num_items)))
    raw = sorted(
        {
            (root, max(1, round(f * root)), depth)
            for f in grid.leaves_fractions
            for depth in grid.reorderings
        }
    )
    threads = grid.build_threads
    methods_by_family = [
        ("tfrs_brute_force", lambda: methods.brute_force(candidates, K)),
        # Both library families from one build per tree.
        ("scann_library", lambda: methods.library_scann(candidates, K, scann_configs, library)),
        ("scann_pybind", lambda: methods.raw_scann(candidates, K, raw, 1)),
        (
            "faiss_ivfpq_fastscan",
            lambda: methods.faiss_ivfpq(candidates, K, grid.nprobes, grid.k_factors, threads),
        ),
        ("faiss_hnsw", lambda: methods.faiss_hnsw(candidates, K, grid.efs, threads)),
        ("hnswlib", lambda: methods.hnswlib_index(candidates, K, grid.efs, threads)),
    ]
    points, skipped = [], []
    for family, searchers in methods_by_family:
        if family not in wanted and not (family == "scann_library" and library):
            continue
        log(f"[{name}] {family}")
        found = False
        for searcher in searchers():
            found = True
            points.append(measure(searcher, queries, exact, calls, batch_size))
            log(
                f"    {searcher.settings}: recall {points[-1]['recall_at_10']:.4f}, "
                f"1-query {points[-1]['single_qps']:.0f}/s, batched "
                f"{points[-1]['batched_qps']:.0f}/s"
            )
        if not found:
            skipped.append(family)
            log(f"[{name}] {family}: not installed, skipped")
    order = {family: number for number, family in enumerate(FAMILIES)}
    points.sort(key=lambda point: order[point["family"]])  # stable: settings keep their order
    return {
        "name": name,
        "num_items": num_items,
        "dim": dim,
        "num_queries": len(queries),
        "num_tuning_queries": len(tuning_queries),
        "tuning_seconds": tuning_seconds,
        "tuning_grid": tuning_grid,
        "skipped": skipped,
        "points": points,
    }


def movielens_embeddings(data_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """Candidate and query embeddings of the default joint model trained on ml-100k."""
    from tfrs_mtl.experiments import ExperimentConfig, run_experiment

    config = ExperimentConfig(data_dir=data_dir, baselines=(), validate_each_epoch=False)
    result = run_experiment(config, None, progress=False)
    recommender = result.recommender
    queries = recommender.encode_queries(result.serving_data.users)
    return np.asarray(recommender.candidate_embeddings, np.float32), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--queries", type=int, default=1000, help="evaluation queries")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--no-movielens", action="store_true")
    parser.add_argument(
        "--data-dir",
        default=str(Path(os.environ.get("TFRS_MTL_DATA_DIR", "../shared/data")) / "ml-100k"),
    )
    parser.add_argument("--tuning-queries", type=int, default=1000)
    parser.add_argument(
        "--families", nargs="+", choices=FAMILIES, help="measure only these (default: all)"
    )
    parser.add_argument(
        "--k-factors", type=int, nargs="+", help="faiss refine depths / k (default 10 25 100)"
    )
    parser.add_argument("--nprobes", type=int, nargs="+", help="faiss IVF lists searched")
    parser.add_argument(
        "--index-cache",
        type=Path,
        help="save the peers' (faiss, hnswlib) indexes here and load them in later runs",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        help="combine the ann.json of earlier runs (e.g. one run per catalogue) into --out",
    )
    args = parser.parse_args()
    if args.merge:
        write(merge([json.loads(path.read_text()) for path in args.merge]), args.out)
        return
    methods.INDEX_CACHE = args.index_cache
    grid = Grid()
    if args.quick:
        args.sizes, args.queries, args.dim, args.no_movielens = [2000], 200, 16, True
        grid = QUICK
    if args.k_factors:
        grid = dataclasses.replace(grid, k_factors=tuple(args.k_factors))
    if args.nprobes:
        grid = dataclasses.replace(grid, nprobes=tuple(args.nprobes))
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, TF {tf.__version__}",
        "load_average_start": os.getloadavg(),
        "peers": methods.available_peers(),
        "threads": "1 query thread for every method (single and batched); builds: ScaNN 1 "
        "thread (the library's reproducible setting), faiss/hnswlib 2 threads",
        "k": K,
        "catalogues": [],
    }
    for size in args.sizes:
        rng = np.random.default_rng(1)
        candidates = clustered(size, args.dim, rng)
        queries = clustered(args.queries, args.dim, rng)
        tuning = clustered(args.tuning_queries, args.dim, rng)
        results["catalogues"].append(
            run_catalogue(
                f"clustered {size:,} x {args.dim}",
                candidates,
                queries,
                tuning,
                calls=max(1000, args.queries),
                batch_size=args.batch_size,
                grid=grid,
                families=args.families,
            )
        )
    if not args.no_movielens:
        candidates, users = movielens_embeddings(args.data_dir)
        # Half of the users tune, the other half measure.
        order = np.random.default_rng(3).permutation(len(users))
        half = len(users) // 2
        results["catalogues"].append(
            run_catalogue(
                f"MovieLens-100K items {len(candidates):,} x {candidates.shape[1]}",
                candidates,
                users[order[half:]],
                users[order[:half]],
                calls=1000,
                batch_size=args.batch_size,
                grid=grid,
            )
        )
    results["load_average_end"] = os.getloadavg()
    write(results, args.out)


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several runs: their catalogues in order, each run's load averages."""
    catalogues: dict[str, dict[str, Any]] = {}
    for run in runs:  # runs of some families each: the points of one catalogue are joined
        for catalogue in run["catalogues"]:
            if catalogue["name"] not in catalogues:
                catalogues[catalogue["name"]] = {**catalogue, "points": []}
            joined = catalogues[catalogue["name"]]
            joined["points"] += catalogue["points"]
            if catalogue["tuning_grid"]:
                joined["tuning_grid"] = catalogue["tuning_grid"]
                joined["tuning_seconds"] = catalogue["tuning_seconds"]
                joined["num_tuning_queries"] = catalogue["num_tuning_queries"]
    for joined in catalogues.values():
        order = {family: number for number, family in enumerate(FAMILIES)}
        joined["points"].sort(key=lambda point: order[point["family"]])
    merged = {**runs[0], "catalogues": list(catalogues.values())}
    merged["runs"] = [
        {
            "catalogues": [c["name"] for c in run["catalogues"]],
            "load_average_start": run["load_average_start"],
            "load_average_end": run["load_average_end"],
        }
        for run in runs
    ]
    return merged


def write(results: dict[str, Any], out: Path) -> None:
    results["targets"] = targets(results["catalogues"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "ann.json").write_text(json.dumps(results, indent=2) + "\n")
    text = markdown(results)
    (out / "ann.md").write_text(text)
    plot(results["catalogues"], out / "ann_recall_qps.png")
    print(text)


if __name__ == "__main__":
    main()
