"""Two-stage serving latency of the exported recommender over a 1,000,000-item catalogue.

    .venv/bin/python benchmarks/serving.py [--items 1000000] [--requests 2000] [--quick]
                                           [--out benchmarks/results]

Builds a `MultiTaskModel` (user id + segment; item id + category + genres multi-hot; tasks
retrieval, rating, click and a brand attribute head) on synthetic arrays, trains it a few
steps (latency does not depend on the weights), builds the ScaNN index configured for the
catalogue size and exports through `tfrs_mtl.serving.save`. A FRESH process then loads the
export (`tfrs_mtl.serving.load`), warms it up and times, request by request with
`time.perf_counter`, single-user requests (retrieve 200 candidates, score every ranking task,
return 10; random known users, one in ten with an exclusion list) through
`LoadedRecommender.recommend` and through the raw SavedModel signature, and batched
throughput at 64 and 256 users per call. Results: `<out>/serving.{json,md}`. Fixed seeds; the
machine may be shared, so the markdown records the load average.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import tensorflow as tf

from tfrs_mtl.features import FeatureConfig, FeatureSpec, FeatureVocabularies
from tfrs_mtl.layers import ExpertsConfig, TowerConfig
from tfrs_mtl.models import MultiTaskConfig, MultiTaskModel, build_dataset
from tfrs_mtl.models.task_statistics import TaskStatistics
from tfrs_mtl.serving import IndexConfig, LoadedRecommender, Recommender, load
from tfrs_mtl.tasks import TaskConfig

RESULTS = Path(__file__).parent / "results"
K = 10
NUM_CANDIDATES = 200
NUM_SEGMENTS = 8
NUM_CATEGORIES = 500
NUM_GENRES = 20
NUM_BRANDS = 1000
MAX_GENRES = 3
NUM_EXCLUDED = 20
EXCLUDE_EVERY = 10
BATCH_SIZES = (64, 256)


def serving_config(embedding_dim: int = 64) -> MultiTaskConfig:
    """User id + segment; item id + category + genres; retrieval, rating, click, brand."""
    features = (
        FeatureConfig(name="user_id", kind="id", side="query"),
        FeatureConfig(name="user_segment", kind="categorical", side="query"),
        FeatureConfig(name="item_id", kind="id", side="candidate"),
        FeatureConfig(name="category", kind="categorical", side="candidate"),
        FeatureConfig(name="genres", kind="multi_hot", side="candidate", dtype="int64"),
    )
    tasks = (
        TaskConfig(name="retrieval", kind="retrieval", remove_accidental_hits=True),
        TaskConfig(
            name="rating",
            kind="rating",
            label_key="rating",
            use_global_bias=True,
            use_user_bias=True,
            use_item_bias=True,
        ),
        TaskConfig(name="click", kind="binary", label_key="click"),
        TaskConfig(
            name="brand",
            kind="attribute",
            label_key="brand",
            target="multi_class",
            source_side="candidate",
            weight=0.5,
        ),
    )
    return MultiTaskConfig(
        features=FeatureSpec(
            features=tuple(f.replace(embedding_dim=embedding_dim) for f in features)
        ),
        tasks=tasks,
        query_tower=TowerConfig(hidden_dims=(64,), output_dim=embedding_dim),
        candidate_tower=TowerConfig(hidden_dims=(64,), output_dim=embedding_dim),
        experts=ExpertsConfig(architecture="shared_bottom", expert_hidden_dims=(64,)),
        query_id_feature="user_id",
        candidate_id_feature="item_id",
    )


def synthetic_catalogue(num_items: int, seed: int = 0) -> dict[str, np.ndarray]:
    """`item_id` "0".."n-1", a category, up to 3 genres (padded with -1) and a brand label."""
    rng = np.random.default_rng(seed)
    category = rng.integers(0, NUM_CATEGORIES, num_items)
    genres = rng.integers(0, NUM_GENRES, (num_items, MAX_GENRES))
    genres[rng.random((num_items, MAX_GENRES)) < 0.4] = -1
    return {
        "item_id": np.arange(num_items).astype(str).astype(object),
        "category": category.astype(str).astype(object),
        "genres": genres.astype(np.int64),
        "brand": ((category * 7 + rng.integers(0, 3, num_items)) % NUM_BRANDS)
        .astype(str)
        .astype(object),
    }


def synthetic_interactions(
    catalogue: Mapping[str, np.ndarray], num_users: int, seed: int = 1
) -> dict[str, np.ndarray]:
    """One interaction per item (so every item is in the vocabularies) by random users."""
    rng = np.random.default_rng(seed)
    num_items = len(catalogue["item_id"])
    users = rng.integers(0, num_users, num_items)
    users[:num_users] = np.arange(min(num_users, num_items))
    return {
        **catalogue,
        "user_id": users.astype(str).astype(object),
        "user_segment": (users % NUM_SEGMENTS).astype(str).astype(object),
        "rating": rng.integers(1, 6, num_items).astype(np.float32),
        "click": (rng.random(num_items) < 0.3).astype(np.float32),
    }


def build_model(arrays: Mapping[str, np.ndarray], train_steps: int) -> MultiTaskModel:
    """Fits the vocabularies on `arrays` and trains `train_steps` batches of 1024."""
    tf.keras.utils.set_random_seed(0)
    config = serving_config()
    model = MultiTaskModel(
        config,
        FeatureVocabularies.fit(config.features, arrays),
        TaskStatistics.fit(config.tasks, arrays),
    )
    if train_steps > 0:
        model.compile_default()
        model.fit(build_dataset(arrays, 1024).take(train_steps), epochs=1, verbose=0)
    return model


def index_config_for(num_items: int) -> IndexConfig:
    """ScaNN for the catalogue size: about sqrt(n) leaves (1,000 at 1M), 4% searched, AH with
    2 dimensions per block, and 10x the 200 candidates rescored exactly.

    At 1M items of this model, reordering is what limits recall@200, not the leaves: 40
    leaves with 400 reordered give 0.61, with 2,000 reordered 0.84; the whole request then
    costs about 1 ms more CPU (benchmarks/results/serving.md). 80 leaves with 2,000 give 0.91
    for about 0.7 ms more again.
    """
    num_leaves = max(2, round(math.sqrt(num_items)))
    return IndexConfig(
        num_leaves=num_leaves,
        num_leaves_to_search=max(1, round(0.04 * num_leaves)),
        num_reordering_candidates=10 * NUM_CANDIDATES,
        training_sample_size=min(num_items, 100_000),
        training_threads=0,
    )


def export_recommender(
    num_items: int, folder: Path, num_users: int, train_steps: int
) -> tuple[Recommender, Path, dict[str, Any]]:
    """Builds the model, the recommender and its export; returns the timings."""
    timings: dict[str, Any] = {}
    start = time.perf_counter()
    catalogue = synthetic_catalogue(num_items)
    model = build_model(synthetic_interactions(catalogue, num_users), train_steps)
    timings["model_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    recommender = Recommender(model, catalogue, index_config_for(num_items), progress=False)
    timings["encode_and_index_seconds"] = time.perf_counter() - start
    timings["index_build_seconds"] = recommender.index_build_seconds
    timings["built_index_config"] = recommender.index.config.to_dict()
    timings["retrieval_recall"] = retrieval_recall(recommender, num_users)
    start = time.perf_counter()
    path = recommender.save(folder / "export")
    timings["export_seconds"] = time.perf_counter() - start
    timings["export_bytes"] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return recommender, path, timings


def retrieval_recall(recommender: Recommender, num_users: int, num_queries: int = 200) -> float:
    """Stage 1's recall@200 against exact search, over `num_queries` users' embeddings."""
    features = batch_request(num_queries, num_users, seed=5)
    queries = recommender.encode_queries(features)
    _, rows = recommender.index.search(queries, NUM_CANDIDATES)
    exact = np.concatenate(
        [  # 20 queries at a time: 20 x 1M scores is 80 MB
            np.argpartition(
                -(queries[start : start + 20] @ recommender.candidate_embeddings.T),
                NUM_CANDIDATES - 1,
                axis=1,
            )[:, :NUM_CANDIDATES]
            for start in range(0, num_queries, 20)
        ]
    )
    found = [len(set(a) & set(e)) for a, e in zip(rows.numpy(), exact, strict=True)]
    return float(np.sum(found) / (num_queries * NUM_CANDIDATES))


Request = tuple[dict[str, np.ndarray], list[list[str]] | None]


def single_requests(num_requests: int, num_users: int, num_items: int, seed: int) -> list[Request]:
    """Random known users; every `EXCLUDE_EVERY`-th request excludes `NUM_EXCLUDED` items."""
    rng = np.random.default_rng(seed)
    requests: list[Request] = []
    for index in range(num_requests):
        user = int(rng.integers(0, num_users))
        features = {
            "user_id": np.array([str(user)], dtype=object),
            "user_segment": np.array([str(user % NUM_SEGMENTS)], dtype=object),
        }
        exclude = None
        if index % EXCLUDE_EVERY == EXCLUDE_EVERY - 1:
            exclude = [rng.integers(0, num_items, NUM_EXCLUDED).astype(str).tolist()]
        requests.append((features, exclude))
    return requests


def batch_request(batch_size: int, num_users: int, seed: int) -> dict[str, np.ndarray]:
    users = np.random.default_rng(seed).integers(0, num_users, batch_size)
    return {
        "user_id": users.astype(str).astype(object),
        "user_segment": (users % NUM_SEGMENTS).astype(str).astype(object),
    }


def latency_summary(seconds: list[float]) -> dict[str, float]:
    milliseconds = np.asarray(seconds) * 1e3
    return {
        "count": len(milliseconds),
        "p50_ms": float(np.percentile(milliseconds, 50)),
        "p90_ms": float(np.percentile(milliseconds, 90)),
        "p99_ms": float(np.percentile(milliseconds, 99)),
        "max_ms": float(milliseconds.max()),
        "mean_ms": float(milliseconds.mean()),
    }


def time_each(
    call: Callable[[Any], Any], inputs: list[Any], cpu_seconds: list[float] | None = None
) -> list[float]:
    """Wall seconds of each call; with `cpu_seconds`, also appends each call's process CPU
    time (every thread), which machine load inflates far less than wall time."""
    seconds = []
    for item in inputs:
        cpu = time.process_time()
        start = time.perf_counter()
        call(item)
        seconds.append(time.perf_counter() - start)
        if cpu_seconds is not None:
            cpu_seconds.append(time.process_time() - cpu)
    return seconds


def signature_inputs(recommender: LoadedRecommender, request: Request) -> dict[str, tf.Tensor]:
    """What a TF Serving client sends to the `recommend` signature, as tensors."""
    features, exclude = request
    inputs = {name: tf.constant(values) for name, values in features.items()}
    inputs["exclusions"] = (
        tf.constant(exclude, tf.string) if exclude else tf.zeros([1, 0], tf.string)
    )
    inputs["k"] = tf.constant(K)
    inputs["num_candidates"] = tf.constant(NUM_CANDIDATES)
    weights = [0.0] * len(recommender.manifest["blend_order"])
    weights[recommender.manifest["blend_order"].index("rating")] = 1.0
    inputs["blend_weights"] = tf.constant(weights, tf.float32)
    return inputs


def recommend_one(recommender: Any, request: Request) -> Any:
    features, exclude = request
    return recommender.recommend(features, k=K, num_candidates=NUM_CANDIDATES, exclude=exclude)


def measure_loaded(
    path: Path,
    num_requests: int,
    num_users: int,
    num_items: int,
    batched_users: int = 2048,
    rounds: int = 3,
) -> dict[str, Any]:
    """Load, warm up, then single-request latency (`rounds` rounds through the API, one
    through the raw signature) and batched QPS (`batched_users` users per batch size, at
    least 3 calls)."""
    result: dict[str, Any] = {}
    start = time.perf_counter()
    loaded = load(path)
    result["load_seconds"] = time.perf_counter() - start
    warmup = single_requests(50, num_users, num_items, seed=11)
    start = time.perf_counter()
    recommend_one(loaded, warmup[0])
    result["first_request_seconds"] = time.perf_counter() - start
    for request in warmup:
        recommend_one(loaded, request)
    requests = single_requests(num_requests, num_users, num_items, seed=12)
    # Rounds of the same requests: p50 of each round, and every round in the summary.
    wall: list[float] = []
    cpu: list[float] = []
    round_p50_ms = []
    for _ in range(rounds):
        seconds = time_each(lambda request: recommend_one(loaded, request), requests, cpu)
        round_p50_ms.append(float(np.percentile(seconds, 50)) * 1e3)
        wall += seconds
    result["recommend"] = {
        **latency_summary(wall),
        "round_p50_ms": round_p50_ms,
        "best_round_p50_ms": min(round_p50_ms),
        "cpu_p50_ms": float(np.percentile(cpu, 50)) * 1e3,
        "cpu_p99_ms": float(np.percentile(cpu, 99)) * 1e3,
    }
    signature = loaded.signatures["recommend"]
    prepared = [signature_inputs(loaded, request) for request in requests]
    for inputs in prepared[:20]:
        signature(**inputs)
    cpu = []
    result["signature"] = latency_summary(
        time_each(lambda inputs: signature(**inputs), prepared, cpu)
    )
    result["signature"]["cpu_p50_ms"] = float(np.percentile(cpu, 50)) * 1e3
    result["signature"]["cpu_p99_ms"] = float(np.percentile(cpu, 99)) * 1e3
    result["batched"] = {}
    for batch_size in BATCH_SIZES:
        features = batch_request(batch_size, num_users, seed=batch_size)
        loaded.recommend(features, k=K, num_candidates=NUM_CANDIDATES)
        seconds = time_each(
            lambda features: loaded.recommend(features, k=K, num_candidates=NUM_CANDIDATES),
            [features] * max(3, batched_users // batch_size),
        )
        median = float(np.median(seconds))
        result["batched"][str(batch_size)] = {
            "median_ms_per_call": median * 1e3,
            "users_per_second": batch_size / median,
        }
    return result


def measure_in_fresh_process(
    path: Path, num_requests: int, num_users: int, num_items: int
) -> dict[str, Any]:
    completed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure-export",
            str(path),
            "--requests",
            str(num_requests),
            "--users",
            str(num_users),
            "--items",
            str(num_items),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the measuring process failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def same_results(first: Any, second: Any) -> bool:
    """Equal ids and scores (to float32 rounding) for the same requests."""
    return bool(
        np.array_equal(first.item_ids, second.item_ids)
        and np.allclose(
            first.final_scores, second.final_scores, rtol=1e-5, atol=1e-6, equal_nan=True
        )
        and all(
            np.allclose(
                first.scores[task], second.scores[task], rtol=1e-5, atol=1e-6, equal_nan=True
            )
            for task in first.scores
        )
    )


def run(
    num_items: int,
    num_requests: int,
    folder: Path,
    *,
    num_users: int = 10_000,
    train_steps: int = 5,
    fresh_process: bool = True,
) -> dict[str, Any]:
    """The whole benchmark; `fresh_process=False` measures the loaded export in this process."""
    load_average = list(os.getloadavg())
    recommender, path, timings = export_recommender(num_items, folder, num_users, train_steps)
    probes = single_requests(8, num_users, num_items, seed=13)
    loaded = load(path)
    agree = all(
        same_results(recommend_one(recommender, r), recommend_one(loaded, r)) for r in probes
    )
    if fresh_process:
        measured = measure_in_fresh_process(path, num_requests, num_users, num_items)
    else:
        measured = measure_loaded(
            path, num_requests, num_users, num_items, batched_users=0, rounds=1
        )
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, TF {tf.__version__}",
        "load_average": load_average,
        "load_average_end": list(os.getloadavg()),
        "num_items": num_items,
        "num_users": num_users,
        "num_requests": num_requests,
        "k": K,
        "num_candidates": NUM_CANDIDATES,
        "ranking_tasks": list(recommender.ranking_task_names),
        "build": timings,
        "loaded_equals_in_process": agree,
        "loaded": measured,
    }


def markdown(results: Mapping[str, Any]) -> str:
    build, loaded = results["build"], results["loaded"]
    index = build["built_index_config"]
    lines = [
        f"# Serving latency ({results['machine']})",
        "",
        f"Exported two-stage recommender over {results['num_items']:,} items, loaded in a fresh "
        f"process: retrieve {results['num_candidates']} candidates (ScaNN, "
        f"{index['num_leaves']} leaves, {index['num_leaves_to_search']} searched, reorder "
        f"{index['num_reordering_candidates']}; recall@{results['num_candidates']} against "
        f"exact search {build.get('retrieval_recall', float('nan')):.3f}), score every "
        "ranking task "
        f"({', '.join(results['ranking_tasks'])}), return {results['k']}. "
        f"{results['num_requests']} single-user requests after warm-up, one in "
        f"{EXCLUDE_EVERY} excluding {NUM_EXCLUDED} items. Load average at the start "
        f"{', '.join(f'{v:.2f}' for v in results['load_average'])}, at the end "
        f"{', '.join(f'{v:.2f}' for v in results['load_average_end'])} (1, 5, 15 min; "
        f"{os.cpu_count()} cores shared with other work).",
        "",
        "| call | p50 ms | p90 ms | p99 ms | max ms | mean ms | CPU p50 / p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, label in (
        ("recommend", "`LoadedRecommender.recommend` (numpy in, `Recommendations` out)"),
        ("signature", "raw `signatures['recommend']` (tensors in and out)"),
    ):
        row = loaded[name]
        lines.append(
            f"| {label} | {row['p50_ms']:.2f} | {row['p90_ms']:.2f} | {row['p99_ms']:.2f} | "
            f"{row['max_ms']:.2f} | {row['mean_ms']:.2f} | "
            f"{row['cpu_p50_ms']:.2f} / {row['cpu_p99_ms']:.2f} |"
        )
    rounds = loaded["recommend"]["round_p50_ms"]
    lines += [
        "",
        f"`recommend` p50 of each of {len(rounds)} rounds of the {results['num_requests']} "
        f"requests: {', '.join(f'{value:.2f}' for value in rounds)} ms (best "
        f"{min(rounds):.2f}); the first row summarises every round. CPU is the process's CPU "
        "time per request (all threads): what the request costs without queueing for cores.",
    ]
    lines += ["", "| users per call | ms per call (median) | users / s |", "| --- | --- | --- |"]
    for batch_size, row in loaded["batched"].items():
        lines.append(
            f"| {batch_size} | {row['median_ms_per_call']:.1f} | {row['users_per_second']:.0f} |"
        )
    lines += [
        "",
        f"Export {build['export_seconds']:.1f} s ({build['export_bytes'] / 1e6:.0f} MB), load "
        f"{loaded['load_seconds']:.1f} s, first request {loaded['first_request_seconds']:.2f} s; "
        f"index build {build['index_build_seconds']:.1f} s. Loaded export equals the in-process "
        f"recommender: {results['loaded_equals_in_process']}.",
    ]
    if "before" in results:
        lines += comparison(results["before"], results)
    return "\n".join(lines) + "\n"


def comparison(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Markdown rows comparing an earlier run (e.g. of an older commit) with this one."""
    rows = [
        ("`recommend` p50 ms", ("loaded", "recommend", "p50_ms")),
        ("`recommend` p99 ms", ("loaded", "recommend", "p99_ms")),
        ("`recommend` best round p50 ms", ("loaded", "recommend", "best_round_p50_ms")),
        ("`recommend` CPU p50 ms", ("loaded", "recommend", "cpu_p50_ms")),
        ("signature p50 ms", ("loaded", "signature", "p50_ms")),
        ("signature p99 ms", ("loaded", "signature", "p99_ms")),
        ("signature CPU p50 ms", ("loaded", "signature", "cpu_p50_ms")),
        ("users / s, 64 per call", ("loaded", "batched", "64", "users_per_second")),
        ("users / s, 256 per call", ("loaded", "batched", "256", "users_per_second")),
        ("export s", ("build", "export_seconds")),
        ("load s", ("loaded", "load_seconds")),
        ("first request s", ("loaded", "first_request_seconds")),
    ]

    def value(results: Mapping[str, Any], keys: tuple[str, ...]) -> str:
        for key in keys:
            if not isinstance(results, Mapping) or key not in results:
                return "-"
            results = results[key]
        return (
            f"{results:.2f}" if isinstance(results, float) and results < 100 else f"{results:.0f}"
        )

    lines = [
        "",
        f"Before / after ({before.get('label', 'earlier run')}; load average at its start "
        f"{before['load_average'][0]:.2f}):",
        "",
        "| measure | before | after |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {name} | {value(before, keys)} | {value(after, keys)} |" for name, keys in rows]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="20,000 items, 300 requests")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--before",
        type=Path,
        help="serving.json of an earlier run (e.g. an older commit) to compare with",
    )
    parser.add_argument("--before-label", default="an earlier run")
    parser.add_argument("--measure-export", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_export:
        measured = measure_loaded(args.measure_export, args.requests, args.users, args.items)
        print(json.dumps(measured))
        return
    if args.quick:
        args.items, args.requests = 20_000, 300
    with tempfile.TemporaryDirectory() as folder:
        results = run(
            args.items,
            args.requests,
            Path(folder),
            num_users=args.users,
            train_steps=args.train_steps,
        )
    if args.before:
        results["before"] = {**json.loads(args.before.read_text()), "label": args.before_label}
        results["before"].pop("before", None)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serving.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "serving.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
