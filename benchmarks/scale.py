"""Scale on one machine: 10M events, 1M items, 1M users, wall time and
peak memory of every stage.

    .venv/bin/python benchmarks/scale.py [--events 10000000] [--items 1000000] \
        [--users 1000000] [--batch-size 1024] [--eval-users 10000] [--quick]

Stages, in one process, through the library's public functions:

1. `generate`: `generate_synthetic_ecommerce` (views + funnel events, string ids).
2. `prepare`: `aggregate_interactions` (one row per user-item pair), 4 sampled unclicked
   impressions per user (`sample_negative_impressions`), a seeded random 80/20 row split
   (`split_from_config`), `to_feature_arrays` of both parts.
3. `fit_vocabularies`: `MultiTaskModel.fit_inputs` (vocabularies, label statistics and the
   training `Catalogue`) on the training arrays only.
4. `build_model`: `MultiTaskModel` of `ecommerce_config` (MMoE; retrieval, click, cart,
   purchase (ESMM), category, price) compiled with Adagrad (sparse row updates; `--optimizer
   adam` for Keras' Adam, which updates every row of the 1M-row tables at every step).
5. `build_dataset`: `build_dataset` over the training arrays (shuffled each epoch).
6. `train_epoch`: ONE epoch. Retrieval uses in-batch softmax negatives: a full-catalogue
   softmax over 1M items would score every item for every example of every step
   (`[batch, 1M]` logits and their gradient), thousands of times the in-batch cost.
7. `embed_and_index`: candidate tower over every catalogue item, then the ScaNN index
   (`tfrs_mtl.serving.Recommender`, which calls `build_index`).
8. `evaluate`: a seeded sample of test users served through the index: Recall@K / NDCG@K of
   `evaluate_retrieved` (training items removed), plus the index's recall@10 against exact
   search on a sub-sample.

Memory: process RSS sampled every 20 ms by a thread (`psutil`), the peak per stage, and
`ru_maxrss` (the process high-water mark) after each stage. Target: the whole run < 8 GiB.
Writes `benchmarks/results/scale.{json,md}` (or `--out`) and prints the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import tensorflow as tf

from tfrs_mtl.data import split_from_config, to_feature_arrays
from tfrs_mtl.data.aggregate import aggregate_interactions, sample_negative_impressions
from tfrs_mtl.data.split_config import SplitConfig
from tfrs_mtl.data.synthetic import generate_synthetic_ecommerce
from tfrs_mtl.evaluation import evaluate_retrieved, index_recall, retrieval_depth
from tfrs_mtl.models import (
    MultiTaskModel,
    build_dataset,
    ecommerce_config,
)
from tfrs_mtl.models.catalogue import key_strings
from tfrs_mtl.serving import IndexConfig, Recommender

RESULTS = Path(__file__).resolve().parent / "results"
GIB = 1 << 30
MEMORY_TARGET_GIB = 8.0
K = 10
NEGATIVES_PER_USER = 4
EXACT_USERS = 1_000


class MemorySampler:
    """Samples this process's RSS in a daemon thread; `peak()` since the last `reset()`."""

    def __init__(self, interval: float = 0.02) -> None:
        self._process = psutil.Process()
        self._interval = interval
        self._peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def sample(self) -> int:
        rss = self._process.memory_info().rss
        with self._lock:
            self._peak = max(self._peak, rss)
        return rss

    def reset(self) -> None:
        with self._lock:
            self._peak = 0
        self.sample()

    def peak(self) -> int:
        self.sample()
        with self._lock:
            return self._peak

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _max_rss_bytes() -> int:
    # Linux reports kilobytes (macOS bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


@dataclasses.dataclass
class Stages:
    sampler: MemorySampler
    rows: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    #: Called after every stage (the results so far are written, so a run cut short by
    #: time or memory still leaves its measured stages behind).
    on_stage: Callable[[dict[str, dict[str, Any]]], None] = lambda rows: None

    @contextmanager
    def stage(self, name: str, **extra: Any) -> Iterator[dict[str, Any]]:
        gc.collect()
        self.sampler.reset()
        start_rss = self.sampler.sample()
        wall, cpu = time.perf_counter(), time.process_time()
        row: dict[str, Any] = dict(extra)
        print(f"[scale] {name} ...", file=sys.stderr, flush=True)
        yield row
        row.update(
            wall_seconds=time.perf_counter() - wall,
            cpu_seconds=time.process_time() - cpu,
            rss_start_gib=start_rss / GIB,
            rss_peak_gib=self.sampler.peak() / GIB,
            rss_end_gib=self.sampler.sample() / GIB,
            ru_maxrss_gib=_max_rss_bytes() / GIB,
        )
        self.rows[name] = row
        self.on_stage(self.rows)
        print(
            f"[scale] {name}: {row['wall_seconds']:.1f} s, peak {row['rss_peak_gib']:.2f} GiB",
            file=sys.stderr,
            flush=True,
        )


def _pairs(
    user_ids: np.ndarray, item_ids: np.ndarray, users: Any, items: Any
) -> tuple[np.ndarray, np.ndarray]:
    """`(user_indices, item_indices)` of string ids into the `pd.Index`es `users`, `items`."""
    return (
        users.get_indexer(user_ids).astype(np.int64),
        items.get_indexer(item_ids).astype(np.int64),
    )


def _exact_top_k(query: np.ndarray, items: np.ndarray, k: int, block: int = 16) -> np.ndarray:
    """`[num_queries, k]` exact top-k item rows by dot product, in blocks of queries."""
    found = np.empty((len(query), k), np.int64)
    for begin in range(0, len(query), block):
        scores = query[begin : begin + block] @ items.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        found[begin : begin + block] = np.take_along_axis(top, order, axis=1)
    return found


def run(
    args: argparse.Namespace, on_stage: Callable[[dict[str, dict[str, Any]]], None]
) -> dict[str, Any]:
    import pandas as pd

    stages = Stages(MemorySampler(), on_stage=on_stage)
    with stages.sampler:
        stage = stages.stage
        with stage("generate") as row:
            log = generate_synthetic_ecommerce(
                num_users=args.users, num_items=args.items, num_events=args.events, seed=args.seed
            ).log
            row["events"] = len(log.events)

        with stage("prepare") as row:
            pairs = aggregate_interactions(log)
            del log
            frame = sample_negative_impressions(pairs, NEGATIVES_PER_USER, seed=args.seed)
            del pairs
            for column in ("first_timestamp", "last_timestamp", "num_events", "favorite"):
                frame.pop(column)
            if not args.string_ids:
                # The synthetic ids are decimal integers, and the model keys int64 and string
                # ids alike: int64 arrays take 8 bytes a value, object arrays of Python
                # strings ~60 (gigabytes on 11M rows x 4 id columns).
                for column in ("user_id", "item_id", "category", "brand"):
                    as_ints = pc.cast(pa.chunked_array([pa.array(frame[column])]), pa.int64())
                    frame[column] = as_ints.to_numpy()
            parts = split_from_config(frame, SplitConfig(method="random", seed=args.seed))
            del frame
            train_arrays = to_feature_arrays(parts.train)
            # Evaluation reads the test rows' users, items and clicks only.
            test_arrays = to_feature_arrays(parts.test[["user_id", "item_id", "click"]])
            del parts
            row.update(
                train_rows=len(train_arrays["user_id"]), test_rows=len(test_arrays["user_id"])
            )

        config = ecommerce_config(embedding_dim=args.embedding_dim).replace(
            learning_rate=_learning_rate(args), seed=args.seed, eval_top_k=()
        )
        with stage("fit_vocabularies") as row:
            vocabularies, statistics, catalogue = MultiTaskModel.fit_inputs(config, train_arrays)
            row["vocabulary_sizes"] = {
                table: len(vocabularies.vocabulary(table))
                for table in ("user_id", "item_id", "brand")
            }
            row["catalogue_items"] = len(catalogue.keys)

        with stage("build_model") as row:
            tf.keras.utils.set_random_seed(args.seed)
            model = MultiTaskModel(config, vocabularies, statistics, catalogue)
            model.compile(optimizer=_optimizer(args.optimizer, _learning_rate(args)))
            row["optimizer"] = args.optimizer
            row["trainable_parameters"] = int(
                sum(np.prod(variable.shape) for variable in model.trainable_variables)
            )

        with stage("build_dataset", batch_size=args.batch_size):
            names = {feature.name for feature in config.features.features}
            names.update(
                key for task in config.tasks for key in (task.label_key, task.sample_weight_key)
            )
            columns = {name: train_arrays[name] for name in names if name in train_arrays}
            dataset = build_dataset(columns, args.batch_size, seed=args.seed)

        num_train = len(train_arrays["user_id"])
        epoch_steps = -(-num_train // args.batch_size)
        steps = min(args.max_train_steps or epoch_steps, epoch_steps)
        with stage("train_epoch", batch_size=args.batch_size) as row:
            history = model.fit(dataset.take(steps), epochs=1, verbose=2 if args.progress else 0)
            row["loss"] = float(history.history["loss"][-1])
            row.update(steps=steps, epoch_steps=epoch_steps)
            row["examples"] = min(num_train, steps * args.batch_size)
        train_row = stages.rows["train_epoch"]
        train_row["examples_per_second"] = train_row["examples"] / train_row["wall_seconds"]
        # A partial epoch: the whole epoch's time at the measured rate.
        train_row["epoch_seconds_estimate"] = num_train / train_row["examples_per_second"]
        stages.on_stage(stages.rows)
        # Free the training columns the evaluation does not read (their tensors live on in
        # the dataset until here).
        train_arrays = {name: train_arrays[name] for name in ("user_id", "item_id", "click")}
        del dataset, columns

        with stage("embed_and_index") as row:
            items = {
                name: values
                for name, values in catalogue.features.items()
                if name in (config.candidate_id_feature, *model.candidate_feature_names)
            }
            # The serving signature reads ids as strings (keys are strings): 1M is cheap.
            items = {
                name: values.astype(str) if values.dtype.kind in "iu" else values
                for name, values in items.items()
            }
            recommender = Recommender(model, items, IndexConfig(), progress=False)
            row["items"] = recommender.num_items
            row["index_build_seconds"] = recommender.index_build_seconds
            row["index"] = recommender.index.config.to_dict()

        with stage("evaluate") as row:
            positive = np.asarray(train_arrays["click"]) > 0
            users = pd.Index(np.unique(np.asarray(train_arrays["user_id"])))
            ids = key_strings(np.asarray(recommender.catalogue_ids))  # str, in index order
            item_index = pd.Index(ids.astype(object) if args.string_ids else ids.astype(np.int64))
            train_pairs = _pairs(
                np.asarray(train_arrays["user_id"])[positive],
                np.asarray(train_arrays["item_id"])[positive],
                users,
                item_index,
            )
            test_positive = np.asarray(test_arrays["click"]) > 0
            test_pairs = _pairs(
                np.asarray(test_arrays["user_id"])[test_positive],
                np.asarray(test_arrays["item_id"])[test_positive],
                users,
                item_index,
            )
            known = (test_pairs[0] >= 0) & (test_pairs[1] >= 0)
            test_pairs = (test_pairs[0][known], test_pairs[1][known])
            rng = np.random.default_rng(args.seed)
            candidates = np.unique(test_pairs[0])
            sample = np.sort(rng.choice(candidates, min(args.eval_users, len(candidates)), False))
            in_sample = np.isin(train_pairs[0], sample)
            train_sample = (train_pairs[0][in_sample], train_pairs[1][in_sample])
            in_sample = np.isin(test_pairs[0], sample)
            test_sample = (test_pairs[0][in_sample], test_pairs[1][in_sample])
            depth = retrieval_depth(
                train_sample, K, num_users=len(users), num_items=len(item_index)
            )
            # Requests carry string ids (the serving signature's dtype).
            queries = {"user_id": np.asarray(users[sample]).astype(str).astype(object)}
            served_index = pd.Index(ids)  # the same positions as `item_index`
            retrieved = recommender.retrieve(queries, k=depth).item_ids
            served = served_index.get_indexer(
                key_strings(np.asarray(retrieved).reshape(-1))
            ).reshape(retrieved.shape)
            ranked = evaluate_retrieved(
                served,
                train_sample,
                test_sample,
                num_items=len(item_index),
                user_indices=sample,
                ks=(K, 100) if depth >= 100 else (K,),
            )
            exact_users = min(EXACT_USERS, len(sample))
            query = recommender.encode_queries({"user_id": queries["user_id"][:exact_users]})
            items_matrix = np.asarray(recommender.candidate_embeddings, np.float32)
            exact = _exact_top_k(query, items_matrix, K)
            unmasked = recommender.retrieve(
                {"user_id": queries["user_id"][:exact_users]}, k=K
            ).item_ids
            unmasked_rows = served_index.get_indexer(
                key_strings(np.asarray(unmasked).reshape(-1))
            ).reshape(unmasked.shape)
            row.update(
                users=len(sample),
                retrieve_depth=depth,
                metrics={name: float(value) for name, value in ranked.metrics.items()},
                index_recall_at_10_vs_exact=float(index_recall(unmasked_rows, exact)),
                exact_users=exact_users,
            )
    return stages.rows


def markdown(results: dict[str, Any]) -> str:
    meta, stages = results["meta"], results["stages"]
    generate = stages.get("generate", {})
    prepare = stages.get("prepare", {"train_rows": 0, "test_rows": 0})
    lines = [
        "# Scale on one machine: synthetic e-commerce, one training epoch, index, evaluation",
        "",
        f"`{meta['command']}` — {meta['date_utc']}, {meta['machine']}, TensorFlow "
        f"{meta['tensorflow']}; load average before/after: {meta['load_average_before']} / "
        f"{meta['load_average_after']}.",
        "",
        f"{meta['events']:,} views requested ({generate.get('events', 0):,} events with the "
        f"funnel), {meta['items']:,} items, {meta['users']:,} users; "
        f"{prepare['train_rows']:,} training / {prepare['test_rows']:,} "
        f"test rows (user-item pairs + {NEGATIVES_PER_USER} unclicked impressions per user); "
        f"batch {meta['batch_size']}, in-batch softmax retrieval.",
        "",
        "| stage | wall s | CPU s | RSS start GiB | RSS peak GiB | ru_maxrss GiB | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    notes = {
        "train_epoch": lambda r: (
            f"{r['steps']:,} of {r['epoch_steps']:,} steps, "
            f"{r.get('examples_per_second', 0):,.0f} examples/s, loss {r['loss']:.3f}"
            + (
                f"; whole epoch est. {r['epoch_seconds_estimate']:.0f} s"
                if r["steps"] < r["epoch_steps"] and "epoch_seconds_estimate" in r
                else ""
            )
        ),
        "embed_and_index": lambda r: (
            f"{r['items']:,} items; index build {r['index_build_seconds']:.1f} s"
        ),
        "evaluate": lambda r: (
            f"{r['users']:,} users; "
            + ", ".join(
                f"{k} {v:.4f}"
                for k, v in r["metrics"].items()
                if k.split("@")[0] in ("recall", "ndcg")
            )
            + f"; index recall@10 vs exact {r['index_recall_at_10_vs_exact']:.3f} "
            f"({r['exact_users']:,} users)"
        ),
        "fit_vocabularies": lambda r: ", ".join(
            f"{k} {v:,}" for k, v in r["vocabulary_sizes"].items()
        ),
        "build_model": lambda r: (
            f"{r['trainable_parameters']:,} parameters, {r.get('optimizer', 'adam')} "
            f"(+{1 if r.get('optimizer') == 'adagrad' else 2}x slots)"
        ),
    }
    for name, row in stages.items():
        note: Callable[[dict[str, Any]], str] = notes.get(name, lambda r: "")
        lines.append(
            f"| {name} | {row['wall_seconds']:.1f} | {row['cpu_seconds']:.1f} | "
            f"{row['rss_start_gib']:.2f} | {row['rss_peak_gib']:.2f} | "
            f"{row['ru_maxrss_gib']:.2f} | {note(row)} |"
        )
    total = results["total"]
    verdict = "met" if total["peak_gib"] < MEMORY_TARGET_GIB else "NOT met"
    lines += [
        f"| **total** | {total['wall_seconds']:.1f} | {total['cpu_seconds']:.1f} | | "
        f"{total['peak_gib']:.2f} | {total['ru_maxrss_gib']:.2f} | |",
        "",
        f"Peak memory of the whole run {total['ru_maxrss_gib']:.2f} GiB (ru_maxrss): target "
        f"< {MEMORY_TARGET_GIB:g} GiB {verdict}.",
    ]
    if not meta["complete"]:
        lines += ["", f"**Incomplete run**: stopped after `{list(stages)[-1]}`."]
    for note_text in results.get("notes", []):
        lines += ["", note_text]
    return "\n".join(lines) + "\n"


def _learning_rate(args: argparse.Namespace) -> float:
    if args.learning_rate is not None:
        return float(args.learning_rate)
    return 0.05 if args.optimizer == "adagrad" else 0.002


def _optimizer(name: str, learning_rate: float) -> tf.keras.optimizers.Optimizer:
    """Adagrad applies sparse (row) updates for embedding gradients (`tf.IndexedSlices`);
    Keras 2's Adam decays both moment slots of every row at every step, which makes a step
    over two 1M x 64 tables cost as much as a dense 123M-parameter update."""
    if name == "adagrad":
        return tf.keras.optimizers.Adagrad(learning_rate)
    return tf.keras.optimizers.Adam(learning_rate)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    # In-batch softmax costs O(batch^2) per step: 1024 trains ~4x more examples/s than 4096.
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--embedding-dim", type=int, default=64)
    parser.add_argument(
        "--learning-rate", type=float, default=None, help="0.05 (adagrad), 0.002 (adam)"
    )
    parser.add_argument(
        "--optimizer",
        choices=("adagrad", "adam"),
        default="adagrad",
        help="adagrad updates only the embedding rows a batch touches; Keras' Adam updates "
        "every row of the 1M-row tables (and both slots) at every step",
    )
    parser.add_argument("--eval-users", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="100k events, 10k items/users")
    parser.add_argument("--progress", action="store_true", help="Keras progress line")
    parser.add_argument(
        "--string-ids", action="store_true", help="keep ids as strings (object arrays)"
    )
    parser.add_argument(
        "--max-train-steps",
        type=int,
        default=0,
        help="train this many steps of the epoch (0: all); the epoch time is then estimated",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "scale", help="file stem")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.items, args.users, args.eval_users = 100_000, 10_000, 10_000, 1_000
    load_before = [round(v, 2) for v in os.getloadavg()]
    wall, cpu = time.perf_counter(), time.process_time()

    def results_of(stages: dict[str, dict[str, Any]], complete: bool) -> dict[str, Any]:
        results = {
            "meta": {
                "events": args.events,
                "items": args.items,
                "users": args.users,
                "batch_size": args.batch_size,
                "embedding_dim": args.embedding_dim,
                "eval_users": args.eval_users,
                "max_train_steps": args.max_train_steps,
                "ids": "string" if args.string_ids else "int64",
                "seed": args.seed,
                "complete": complete,
                "command": " ".join(
                    ["benchmarks/scale.py", *(sys.argv[1:] if argv is None else argv)]
                ),
                "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"{psutil.virtual_memory().total / GIB:.0f} GiB RAM, shared with other jobs",
                "tensorflow": tf.__version__,
                "load_average_before": load_before,
                "load_average_after": [round(v, 2) for v in os.getloadavg()],
            },
            "stages": stages,
            "total": {
                "wall_seconds": time.perf_counter() - wall,
                "cpu_seconds": time.process_time() - cpu,
                "peak_gib": max(row["rss_peak_gib"] for row in stages.values()),
                "ru_maxrss_gib": _max_rss_bytes() / GIB,
                "memory_target_gib": MEMORY_TARGET_GIB,
            },
        }
        results["total"]["memory_target_met"] = (
            results["total"]["ru_maxrss_gib"] < MEMORY_TARGET_GIB
        )
        return results

    def write(results: dict[str, Any]) -> str:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        table = markdown(results)
        args.out.with_suffix(".md").write_text(table)
        return table

    stages = run(args, lambda rows: write(results_of(rows, complete=False)))
    results = results_of(stages, complete=True)
    print(write(results))
    return results


if __name__ == "__main__":
    main()
