"""Concurrency benchmark: throughput of one loaded export shared by 1, 2, 4 and 8 threads.

    .venv/bin/python benchmarks/concurrency.py [--num-items 5000] [--requests 2000] [--quick]

Exports a `MultiTaskModel` (MovieLens preset, 32-d, untrained: throughput does not depend on
the weights) over a synthetic catalogue with a ScaNN index, loads it with
`tfrs_mtl.serving.load`, and sends the same single-user `recommend(k=10, num_candidates=200)`
requests from a sequential loop (the baseline) and from 1, 2, 4 and 8 threads sharing the one
loaded recommender. Each setting runs `--repeats` times, interleaved so that machine load hits
them alike; the table gives the median requests/s and its speed-up over the sequential
baseline, and checks every threaded result against the sequential one (`mismatches`).
Results: benchmarks/results/concurrency.{json,md}. TensorFlow runs each request's ops on its
own inter-op thread pool, so threads overlap Python work with kernels: speed-ups are bounded
by the cores (the machine's count is in the results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import tensorflow as tf

from tfrs_mtl.models import MultiTaskModel, movielens_config
from tfrs_mtl.serving import IndexConfig, Recommender, load

RESULTS = Path(__file__).parent / "results"
THREAD_COUNTS = (1, 2, 4, 8)
K, NUM_CANDIDATES = 10, 200


def movielens_like(num_users: int, num_items: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
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


def build_export(num_items: int, folder: Path) -> tuple[Any, list[dict[str, np.ndarray]]]:
    tf.keras.utils.set_random_seed(0)
    arrays = movielens_like(1000, num_items, seed=2)
    model = MultiTaskModel.from_data(movielens_config(embedding_dim=32), arrays)
    _, first = np.unique(arrays["movie_id"], return_index=True)
    catalogue = {name: arrays[name][first] for name in model.candidate_feature_names}
    recommender = Recommender(model, catalogue, IndexConfig(kind="scann"), progress=False)
    loaded = load(recommender.save(folder / "export"))
    # 64 distinct one-user requests, cycled.
    requests = [
        {name: arrays[name][row : row + 1] for name in loaded.query_signature} for row in range(64)
    ]
    return loaded, requests


def call(recommender: Any, features: dict[str, np.ndarray]) -> Any:
    return recommender.recommend(features, k=K, num_candidates=NUM_CANDIDATES)


def sequential(recommender: Any, requests: list[dict[str, np.ndarray]], total: int) -> float:
    start = time.perf_counter()
    for number in range(total):
        call(recommender, requests[number % len(requests)])
    return total / (time.perf_counter() - start)


def threaded(
    recommender: Any,
    requests: list[dict[str, np.ndarray]],
    total: int,
    num_threads: int,
    expected: list[np.ndarray],
) -> tuple[float, int]:
    """Requests/s with `total` requests split over `num_threads`; and the mismatches."""
    mismatches = [0] * num_threads
    barrier = threading.Barrier(num_threads + 1)

    def worker(thread: int) -> None:
        barrier.wait()
        for number in range(thread, total, num_threads):
            which = number % len(requests)
            result = call(recommender, requests[which])
            if not np.array_equal(result.item_ids, expected[which]):
                mismatches[thread] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(num_threads)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return total / (time.perf_counter() - start), sum(mismatches)


def run(num_items: int, total: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        loaded, requests = build_export(num_items, Path(folder))
        expected = [call(loaded, features).item_ids for features in requests]
        for features in requests:  # warm up (first calls trace and allocate)
            call(loaded, features)
        samples: dict[str, list[float]] = {"sequential": []}
        samples.update({f"{n} threads": [] for n in THREAD_COUNTS})
        mismatches = 0
        for _ in range(repeats):
            samples["sequential"].append(sequential(loaded, requests, total))
            for num_threads in THREAD_COUNTS:
                rate, wrong = threaded(loaded, requests, total, num_threads, expected)
                samples[f"{num_threads} threads"].append(rate)
                mismatches += wrong
    baseline = statistics.median(samples["sequential"])
    rows = {
        name: {
            "requests_per_second": statistics.median(values),
            "samples": values,
            "speedup_vs_sequential": statistics.median(values) / baseline,
        }
        for name, values in samples.items()
    }
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, TF {tf.__version__}",
        "num_items": num_items,
        "requests_per_setting": total,
        "repeats": repeats,
        "request": f"recommend(one user, k={K}, num_candidates={NUM_CANDIDATES}), loaded export",
        "mismatches_vs_sequential": mismatches,
        "settings": rows,
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# Concurrency benchmark ({results['machine']})",
        "",
        f"One loaded export ({results['num_items']} items, ScaNN) shared by N threads; "
        f"{results['requests_per_setting']} requests per setting, median of "
        f"{results['repeats']} interleaved runs; {results['request']}. Threaded results "
        f"differing from sequential ones: {results['mismatches_vs_sequential']}.",
        "",
        "| setting | requests/s | speed-up vs sequential |",
        "| --- | --- | --- |",
    ]
    for name, row in results["settings"].items():
        lines.append(
            f"| {name} | {row['requests_per_second']:.0f} | {row['speedup_vs_sequential']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-items", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="500 items, 200 requests, 1 run")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.num_items, arguments.requests, arguments.repeats = 500, 200, 1
    results = run(arguments.num_items, arguments.requests, arguments.repeats)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "concurrency.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (RESULTS / "concurrency.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
