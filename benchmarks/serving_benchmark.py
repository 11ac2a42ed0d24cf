"""Serving benchmark: ScaNN vs exact brute force, and single-request recommend latency.

    .venv/bin/python benchmarks/serving_benchmark.py [--num-items 100000] [--quick]

Part 1 tunes a ScaNN index (recall@10 >= 0.95 against brute force) on a synthetic clustered
catalogue and measures the chosen index and brute force in the same process: build time,
recall@10, batched queries/s, single-query latency. The choice among near-equal
configurations follows noisy throughput, so it can vary between runs. Part 2 serves a
`MultiTaskModel` (MovieLens preset, untrained: latency does not depend on the weights) over a
synthetic catalogue and measures single-request `recommend` latency in-process and from the loaded
export (interleaved request by request in one process), and the export's load time and
latency in a fresh process. Results: benchmarks/results/serving.{json,md}. Fixed seeds;
timings are medians of many runs (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import tensorflow as tf

from tfrs_mtl.models import MultiTaskModel, movielens_config
from tfrs_mtl.serving import IndexConfig, Recommender, build_index, load, tune_index

RESULTS = Path(__file__).parent / "results"
K = 10


def clustered(num_points: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    centres = np.random.default_rng(0).normal(size=(1000, dim))
    labels = rng.integers(len(centres), size=num_points)
    return (centres[labels] + 0.5 * rng.normal(size=(num_points, dim))).astype(np.float32)


def timed(function: Any, repeats: int) -> list[float]:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.nest.map_structure(np.asarray, function())
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> dict[str, float]:
    milliseconds = np.asarray(times) * 1e3
    return {
        "median_ms": float(np.median(milliseconds)),
        "p95_ms": float(np.percentile(milliseconds, 95)),
    }


def index_benchmark(num_items: int, dim: int, num_queries: int) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    candidates, queries = clustered(num_items, dim, rng), clustered(num_queries, dim, rng)
    start = time.perf_counter()
    tuning = tune_index(candidates, queries, target_recall=0.95, k=K, progress=False)
    tuning_seconds = time.perf_counter() - start
    start = time.perf_counter()
    scann = build_index(candidates, tuning.best)
    scann_build = time.perf_counter() - start
    start = time.perf_counter()
    brute = build_index(candidates, IndexConfig(kind="brute_force"))
    brute_build = time.perf_counter() - start
    exact = brute.search(queries, K)[1].numpy()
    approximate = scann.search(queries, K)[1].numpy()
    recall = np.mean([len(set(a) & set(e)) / K for a, e in zip(approximate, exact, strict=True)])
    result: dict[str, Any] = {
        "num_items": num_items,
        "dim": dim,
        "num_queries": num_queries,
        "tuning_seconds": tuning_seconds,
        "chosen": tuning.best.to_dict(),
        "grid": json.loads(tuning.to_frame().to_json(orient="records")),
    }
    for name, index, build in (("scann", scann, scann_build), ("brute_force", brute, brute_build)):
        batch = timed(lambda index=index: index.search(queries, K), 10)
        # Single queries through a tf.function, as the serving graph calls the index.
        search = tf.function(
            lambda batch, index=index: index.search(batch, K),
            input_signature=[tf.TensorSpec([None, dim], tf.float32)],
        )
        one = timed(lambda search=search: search(queries[:1]), 300)
        result[name] = {
            "build_seconds": build,
            "recall_at_10": float(recall) if name == "scann" else 1.0,
            "batched_queries_per_second": num_queries / float(np.median(batch)),
            "single_query": summary(one),
        }
    return result


def movielens_like(
    num_users: int, num_items: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    size = max(num_items, 4 * num_users)
    movies = np.concatenate([np.arange(num_items), rng.integers(0, num_items, size - num_items)])
    return {
        "user_id": rng.integers(0, num_users, size).astype(str).astype(object),
        "bucketized_user_age": rng.choice([18.0, 25.0, 35.0, 45.0], size).astype(np.float32),
        "user_gender": rng.random(size) < 0.5,
        "user_occupation_label": rng.integers(0, 21, size),
        "timestamp": rng.integers(880_000_000, 890_000_000, size),
        "movie_id": movies.astype(str).astype(object),
        "movie_title": np.array([f"Movie {m} title" for m in movies], dtype=object),
        "movie_genres": np.stack([movies % 19, np.full(size, -1)], axis=1).astype(np.int64),
        "user_rating": rng.integers(1, 6, size).astype(np.float32),
    }


def request(model: MultiTaskModel) -> dict[str, np.ndarray]:
    arrays = movielens_like(10, 10, np.random.default_rng(7))
    return {name: arrays[name][:1] for name in model.query_feature_names}


def latency(recommender: Any, features: dict[str, np.ndarray], repeats: int = 300) -> dict:
    return summary(timed(lambda: recommender.recommend(features, k=K, num_candidates=200), repeats))


def interleaved_latency(
    recommenders: dict[str, Any], features: dict[str, np.ndarray], repeats: int = 300
) -> dict[str, dict[str, float]]:
    """Alternates the recommenders request by request, so machine load hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in recommenders}
    for recommender in recommenders.values():
        recommender.recommend(features, k=K, num_candidates=200)
    for _ in range(repeats):
        for name, recommender in recommenders.items():
            start = time.perf_counter()
            recommender.recommend(features, k=K, num_candidates=200)
            times[name].append(time.perf_counter() - start)
    return {name: summary(values) for name, values in times.items()}


def recommend_benchmark(num_items: int, folder: Path) -> dict[str, Any]:
    tf.keras.utils.set_random_seed(0)
    arrays = movielens_like(1000, num_items, np.random.default_rng(2))
    model = MultiTaskModel.from_data(movielens_config(embedding_dim=32), arrays)
    _, first = np.unique(arrays["movie_id"], return_index=True)
    catalogue = {name: arrays[name][first] for name in model.candidate_feature_names}
    result: dict[str, Any] = {"num_items": len(first)}
    for kind in ("scann", "brute_force"):
        start = time.perf_counter()
        recommender = Recommender(model, catalogue, IndexConfig(kind=kind), progress=False)
        entry: dict[str, Any] = {
            "encode_and_build_seconds": time.perf_counter() - start,
            "index_build_seconds": recommender.index_build_seconds,
            "built_index_config": recommender.index.config.to_dict(),
        }
        start = time.perf_counter()
        path = recommender.save(folder / kind)
        entry["save_seconds"] = time.perf_counter() - start
        entry.update(
            interleaved_latency(
                {"in_process": recommender, "loaded_same_process": load(path)}, request(model)
            )
        )
        completed = subprocess.run(
            [sys.executable, __file__, "--measure-export", str(path)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        entry["loaded_fresh_process"] = json.loads(completed.stdout.strip().splitlines()[-1])
        result[kind] = entry
    return result


def measure_export(path: str) -> None:
    start = time.perf_counter()
    loaded = load(path)
    load_seconds = time.perf_counter() - start
    features = {
        name: np.asarray(value)[:1]
        for name, value in movielens_like(10, 10, np.random.default_rng(7)).items()
        if name in loaded.query_signature
    }
    print(json.dumps({"load_seconds": load_seconds, **latency(loaded, features)}))


def markdown(results: dict[str, Any]) -> str:
    index, serving = results["index"], results["recommend"]
    lines = [
        f"# Serving benchmark ({results['machine']})",
        "",
        f"Index: {index['num_items']} clustered items x {index['dim']} dims, "
        f"{index['num_queries']} held-out queries, k={K}. Chosen: "
        f"{index['chosen']['num_leaves']} leaves, {index['chosen']['num_leaves_to_search']} "
        f"searched, reorder {index['chosen']['num_reordering_candidates']}.",
        "",
        "| index | build s | recall@10 | batched QPS | 1-query median ms | p95 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kind in ("scann", "brute_force"):
        row = index[kind]
        lines.append(
            f"| {kind} | {row['build_seconds']:.2f} | {row['recall_at_10']:.4f} | "
            f"{row['batched_queries_per_second']:.0f} | {row['single_query']['median_ms']:.3f} | "
            f"{row['single_query']['p95_ms']:.3f} |"
        )
    lines += [
        "",
        f"recommend (k={K}, num_candidates=200, batch of 1), MultiTaskModel over "
        f"{serving['num_items']} items:",
        "",
        "| index | in-process median / p95 ms | loaded export median / p95 ms "
        "| fresh process: load s, median / p95 ms | save s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind in ("scann", "brute_force"):
        row = serving[kind]
        inside, loaded = row["in_process"], row["loaded_same_process"]
        fresh = row["loaded_fresh_process"]
        lines.append(
            f"| {kind} | {inside['median_ms']:.2f} / {inside['p95_ms']:.2f} | "
            f"{loaded['median_ms']:.2f} / {loaded['p95_ms']:.2f} | "
            f"{fresh['load_seconds']:.1f}, {fresh['median_ms']:.2f} / {fresh['p95_ms']:.2f} | "
            f"{row['save_seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-items", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--num-queries", type=int, default=1000)
    parser.add_argument("--catalogue-items", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--measure-export", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_export:
        measure_export(args.measure_export)
        return
    if args.quick:
        args.num_items, args.num_queries, args.catalogue_items = 5000, 200, 2000
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, TF {tf.__version__}",
        "index": index_benchmark(args.num_items, args.dim, args.num_queries),
    }
    with tempfile.TemporaryDirectory() as folder:
        results["recommend"] = recommend_benchmark(args.catalogue_items, Path(folder))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "serving.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "serving.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
