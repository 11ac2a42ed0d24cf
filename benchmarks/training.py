"""Training throughput: the default joint model against the TFRS tutorial, MovieLens-100K.

    TFRS_MTL_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/training.py \
        [--epochs N] [--batch-size B] [--quick]

One process, MovieLens-100K, the `tutorial` split (80,000 training rows). The joint model
is what `tfrs-mtl quickstart --dataset movielens-100k` trains (`ExperimentConfig()` defaults),
trained by the library's own `train_model` at the benchmark's batch size and epochs. Runs:

1. `tutorial (own recipe)`: the TFRS multitask tutorial model as published (Adagrad 0.1,
   batch 8192, 3 epochs); its quality after its 3 epochs is the first quality target.
2. `tutorial @ B`, 3. `tutorial, no train-time top-k @ B` and 4. `joint @ B`: the models at
   the SAME batch size `B` (default: the joint model's), `--epochs` each. Run 3 is the
   tutorial model without its published per-step `FactorizedTopK` metric (a pass over every
   movie at every training step, which the joint model never does): the strict baseline.

Every epoch is timed alone (a Keras callback: training only, no validation pass), then the
model is scored with the library's evaluation (the joint model: `retrieval_metrics` and
`task_metrics`, as in `evaluate_model`; the tutorial: `evaluate_tfrs_tutorial`; exact full
ranking, training items masked; RMSE on the test rows), untimed. Reported:
examples/s of the first epoch (includes tracing) and steady state (epochs 2..N: total
examples / total seconds), and the cumulative training seconds at which the joint model
first reaches (a) the tutorial's final Recall@10 and RMSE and (b) the quality bar
(Recall@10 >= 0.43, RMSE <= 0.90). Writes `benchmarks/results/training.{json,md}`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import tensorflow as tf

from tfrs_mtl.evaluation import retrieval_metrics
from tfrs_mtl.evaluation.baselines.tfrs_tutorial import (
    TutorialMultitaskModel,
    TutorialRun,
    evaluate_tfrs_tutorial,
)
from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import (
    ExperimentData,
    feature_arrays,
    load_experiment_data,
    split_experiment_data,
)
from tfrs_mtl.experiments.experiment_run import train_model
from tfrs_mtl.experiments.model_evaluation import item_catalogue, task_metrics, user_table
from tfrs_mtl.models import MultiTaskModel

RESULTS = Path(__file__).resolve().parent / "results"
K = 10
#: The MovieLens-100K quality bar (tutorial split): Recall@10 and RMSE.
TARGET_RECALL, TARGET_RMSE = 0.43, 0.90
TUTORIAL_BATCH, TUTORIAL_EPOCHS = 8192, 3

Evaluate = Callable[[], dict[str, float]]


class TutorialWithoutTrainingTopK(TutorialMultitaskModel):
    """The tutorial model without its published per-training-step `FactorizedTopK` metric
    (a full pass over every candidate each step; the TFRS tutorials suggest
    `compute_metrics=not training` to speed training up). The same model and loss: the
    strict throughput baseline."""

    def compute_loss(self, features: Any, training: bool = False) -> tf.Tensor:
        user_embeddings, movie_embeddings, rating_predictions = self(features)
        rating_loss = self.rating_task(
            labels=features["user_rating"], predictions=rating_predictions
        )
        retrieval_loss = self.retrieval_task(
            user_embeddings, movie_embeddings, compute_metrics=not training
        )
        return self.rating_weight * rating_loss + self.retrieval_weight * retrieval_loss


class EpochClock(tf.keras.callbacks.Callback):
    """Wall seconds of each epoch's training steps; then scores the model (not timed)."""

    def __init__(self, evaluate: Evaluate) -> None:
        super().__init__()
        self.evaluate = evaluate
        self.seconds: list[float] = []
        self.metrics: list[dict[str, float]] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)
        self.metrics.append(self.evaluate())


@dataclasses.dataclass
class Benchmark:
    """The data and split of the run, as `tfrs-mtl quickstart` prepares them."""

    config: ExperimentConfig
    data: ExperimentData
    train_positions: np.ndarray
    test_positions: np.ndarray

    @property
    def num_train(self) -> int:
        return len(self.train_positions)


def load(config: ExperimentConfig) -> Benchmark:
    data = load_experiment_data(config)
    train_positions, test_positions = split_experiment_data(data, config.split)
    return Benchmark(config, data, train_positions, test_positions)


def _summary(clock: EpochClock, num_examples: int, batch_size: int) -> dict[str, Any]:
    seconds = clock.seconds
    steady = seconds[1:]
    return {
        "batch_size": batch_size,
        "epochs": len(seconds),
        "epoch_seconds": seconds,
        "first_epoch_examples_per_second": num_examples / seconds[0],
        "steady_examples_per_second": (
            num_examples * len(steady) / sum(steady) if steady else float("nan")
        ),
        "train_seconds": sum(seconds),
        "metrics_per_epoch": clock.metrics,
    }


def _flat(nested: dict[str, dict[str, float]]) -> dict[str, float]:
    wanted = {("retrieval", f"recall@{K}"), ("retrieval", f"ndcg@{K}"), ("rating", "rmse")}
    return {
        f"{task}/{name}": float(value)
        for task, values in nested.items()
        for name, value in values.items()
        if (task, name) in wanted
    }


def _encode(encoder: Any, names: Any, arrays: dict[str, np.ndarray]) -> np.ndarray:
    inputs = {
        name: tf.constant(
            arrays[name].astype(str) if arrays[name].dtype == object else arrays[name]
        )
        for name in names
    }
    return np.asarray(encoder(inputs, training=False), np.float32)


def run_joint(bench: Benchmark, batch_size: int, epochs: int) -> dict[str, Any]:
    """The default joint model (`ExperimentConfig` defaults at `batch_size` and `epochs`),
    trained by the library's `train_model` (what `tfrs-mtl train` runs) with an `EpochClock`
    among its callbacks."""
    config = bench.config.replace(batch_size=batch_size, epochs=epochs)
    data = bench.data
    train_pairs = data.pairs(bench.train_positions)
    test_pairs = data.pairs(bench.test_positions)
    test_arrays = feature_arrays(data, bench.test_positions)

    def evaluate() -> dict[str, float]:
        # What `evaluate_model` reports as `retrieval/*` and `rating/*` (its served-index
        # part is left out: a training benchmark has no index to build).
        model = clock.model
        query = _encode(model.query_encoder, model.query_feature_names, users(model))
        items = _encode(model.candidate_encoder, model.candidate_feature_names, catalogue(model))
        retrieval = retrieval_metrics(
            (query, items),
            train_pairs,
            test_pairs,
            num_users=data.num_users,
            num_items=data.num_items,
            ks=(K,),
        )
        return _flat({"retrieval": retrieval.metrics, **task_metrics(model, test_arrays)})

    tables: dict[str, dict[str, np.ndarray]] = {}

    def users(model: MultiTaskModel) -> dict[str, np.ndarray]:
        if "users" not in tables:
            tables["users"] = user_table(data, model, bench.train_positions)
        return tables["users"]

    def catalogue(model: MultiTaskModel) -> dict[str, np.ndarray]:
        if "items" not in tables:
            tables["items"] = item_catalogue(data, model)
        return tables["items"]

    clock = EpochClock(evaluate)
    trained = train_model(config, data, bench.train_positions, progress=False, callbacks=[clock])
    model = trained.model
    result = _summary(clock, bench.num_train, batch_size)
    # The epochs score the running weights; `fit` then writes in their moving average
    # (`ExperimentConfig.ema_momentum`), which is the trained model.
    result["final_metrics"] = evaluate()
    result["tasks"] = [task.name for task in model.config.tasks]
    result["features"] = [feature.name for feature in model.config.features.features]
    result["trainable_parameters"] = int(
        sum(np.prod(variable.shape) for variable in model.trainable_variables)
    )
    return result


def run_tutorial(
    bench: Benchmark, batch_size: int, epochs: int, training_top_k: bool = True
) -> dict[str, Any]:
    """`train_tfrs_tutorial`'s recipe (Adagrad 0.1, shuffle 100k, batch, cache), timed per
    epoch and scored by `evaluate_tfrs_tutorial` after each."""
    data, frame = bench.data, bench.data.frame
    titles = frame["movie_title"].to_numpy(dtype=object).astype(str)
    users = frame["user_id"].to_numpy(dtype=object).astype(str)
    ratings = frame["user_rating"].to_numpy(dtype=np.float32)
    _, first = np.unique(data.item_index, return_index=True)
    train_rows = bench.train_positions
    tf.random.set_seed(bench.config.seed)
    model_class = TutorialMultitaskModel if training_top_k else TutorialWithoutTrainingTopK
    model = model_class(np.unique(users), np.unique(titles[first]), titles[first])
    model.compile(optimizer=tf.keras.optimizers.Adagrad(0.1))
    train = (
        tf.data.Dataset.from_tensor_slices(
            {
                "movie_title": titles[train_rows],
                "user_id": users[train_rows],
                "user_rating": ratings[train_rows],
            }
        )
        .shuffle(100_000)
        .batch(batch_size)
        .cache()
    )

    def evaluate() -> dict[str, float]:
        metrics, _ = evaluate_tfrs_tutorial(
            TutorialRun(model, {}),
            user_ids=data.user_ids.astype(str),
            movie_titles=titles[first],
            train_pairs=data.pairs(train_rows),
            test_pairs=data.pairs(bench.test_positions),
            test_ratings=ratings[bench.test_positions],
            ks=(K,),
        )
        return _flat(metrics)

    clock = EpochClock(evaluate)
    model.fit(train, epochs=epochs, callbacks=[clock], verbose=0)
    result = _summary(clock, bench.num_train, batch_size)
    result["trainable_parameters"] = int(
        sum(np.prod(variable.shape) for variable in model.trainable_variables)
    )
    return result


def time_to(run: dict[str, Any], recall: float, rmse: float) -> dict[str, Any]:
    """First epoch (1-based) and cumulative training seconds at which Recall@10 >= `recall`
    and RMSE <= `rmse` both hold; None when never within the run."""
    elapsed = 0.0
    for epoch, (seconds, metrics) in enumerate(
        zip(run["epoch_seconds"], run["metrics_per_epoch"], strict=True), start=1
    ):
        elapsed += seconds
        if metrics[f"retrieval/recall@{K}"] >= recall and metrics["rating/rmse"] <= rmse:
            return {"epoch": epoch, "train_seconds": elapsed}
    return {"epoch": None, "train_seconds": None}


def _load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def markdown(results: dict[str, Any]) -> str:
    meta, runs = results["meta"], results["runs"]
    lines = [
        "# Training throughput: default joint model vs TFRS multitask tutorial (MovieLens-100K)",
        "",
        f"`{meta['command']}` — {meta['date_utc']}, {meta['machine']}, TensorFlow "
        f"{meta['tensorflow']}; load average before/after: {meta['load_average_before']} / "
        f"{meta['load_average_after']}. {meta['num_train']:,} training rows (tutorial split); "
        f"op determinism: {meta['deterministic']}.",
        "",
        "Examples/s are of training steps only (no validation pass, evaluation untimed); "
        "steady = epochs 2..N. Quality: exact full ranking over all items, training items "
        "masked (library evaluation), of the trained model: after the last epoch, and for the "
        "joint model after `fit` wrote in the moving average of its weights (the per-epoch "
        "numbers below score its running weights).",
        "",
        "| run | batch | epochs | first epoch ex/s | steady ex/s | train s | "
        f"Recall@{K} | NDCG@{K} | RMSE |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, run in runs.items():
        last = run.get("final_metrics") or run["metrics_per_epoch"][-1]
        lines.append(
            f"| {name} | {run['batch_size']} | {run['epochs']} | "
            f"{run['first_epoch_examples_per_second']:,.0f} | "
            f"{run['steady_examples_per_second']:,.0f} | {run['train_seconds']:.1f} | "
            f"{last[f'retrieval/recall@{K}']:.4f} | {last[f'retrieval/ndcg@{K}']:.4f} | "
            f"{last['rating/rmse']:.4f} |"
        )
    batch_size = meta["batch_size"]
    lines += ["", f"Throughput ratio joint / baseline at batch {batch_size} (target >= 1):", ""]
    for name, ratio in results["throughput_ratio"].items():
        verdict = "met" if ratio["steady"] >= 1 else "not met"
        lines.append(
            f"- vs {name}: **steady {ratio['steady']:.2f}** (first epoch "
            f"{ratio['first_epoch']:.2f}): {verdict}"
        )
    lines += [
        "",
        "| joint model reaches | Recall@10 >= | RMSE <= | at epoch | after train s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, row in results["time_to_quality"].items():
        epoch = row["epoch"] if row["epoch"] is not None else "not reached"
        seconds = f"{row['train_seconds']:.1f}" if row["train_seconds"] is not None else "—"
        lines.append(f"| {name} | {row['recall']:.4f} | {row['rmse']:.4f} | {epoch} | {seconds} |")
    lines += ["", "Per-epoch (seconds; Recall@10 / RMSE):", ""]
    for name, run in runs.items():
        cells = ", ".join(
            f"{s:.1f} s ({m[f'retrieval/recall@{K}']:.3f} / {m['rating/rmse']:.3f})"
            for s, m in zip(run["epoch_seconds"], run["metrics_per_epoch"], strict=True)
        )
        lines.append(f"- {name}: {cells}")
    joint = runs[f"joint @ {batch_size}"]
    lines += [
        "",
        f"Joint model: tasks {', '.join(joint['tasks'])}; features "
        f"{', '.join(joint['features'])}; {joint['trainable_parameters']:,} trainable "
        f"parameters (tutorial: {runs['tutorial (own recipe)']['trainable_parameters']:,}).",
    ]
    for note in results.get("notes", []):
        lines += ["", note]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="joint/same-batch epochs")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the joint's")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1 tutorial epoch")
    parser.add_argument("--max-rows", type=int, default=0, help="sample the ratings (tests)")
    parser.add_argument("--out", type=Path, default=RESULTS / "training", help="file stem")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load_before = _load_average()
    config = ExperimentConfig(max_rows=args.max_rows)
    batch_size = args.batch_size or config.batch_size
    epochs = args.epochs or (2 if args.quick else max(config.epochs, 5))
    tutorial_epochs = 1 if args.quick else TUTORIAL_EPOCHS
    if config.deterministic:
        # As `train_and_evaluate` does before training (process-wide: both models get it).
        tf.config.experimental.enable_op_determinism()
    bench = load(config)
    print(f"{bench.num_train:,} training rows; batch {batch_size}; {epochs} epochs", flush=True)
    runs: dict[str, dict[str, Any]] = {}
    runs["tutorial (own recipe)"] = run_tutorial(bench, TUTORIAL_BATCH, tutorial_epochs)
    runs[f"tutorial @ {batch_size}"] = run_tutorial(bench, batch_size, epochs)
    runs[f"tutorial, no train-time top-k @ {batch_size}"] = run_tutorial(
        bench, batch_size, epochs, training_top_k=False
    )
    runs[f"joint @ {batch_size}"] = run_joint(bench, batch_size, epochs)
    for name, run in runs.items():
        print(
            f"  {name}: steady {run['steady_examples_per_second']:,.0f} ex/s, "
            f"first epoch {run['first_epoch_examples_per_second']:,.0f} ex/s, "
            f"final {run.get('final_metrics') or run['metrics_per_epoch'][-1]}",
            flush=True,
        )
    joint = runs[f"joint @ {batch_size}"]
    reference = runs["tutorial (own recipe)"]["metrics_per_epoch"][-1]
    targets = {
        "tutorial's final quality": (
            reference[f"retrieval/recall@{K}"],
            reference["rating/rmse"],
        ),
        "Recall@10 >= 0.43, RMSE <= 0.90": (TARGET_RECALL, TARGET_RMSE),
    }
    results = {
        "meta": {
            "dataset": "movielens-100k",
            "split": config.split.method,
            "num_train": bench.num_train,
            "num_test": len(bench.test_positions),
            "batch_size": batch_size,
            "deterministic": config.deterministic,
            "experiment_config": config.to_dict(),
            "command": " ".join(["benchmarks/training.py", *(argv or sys.argv[1:])]),
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, shared with other jobs",
            "tensorflow": tf.__version__,
            "load_average_before": load_before,
            "load_average_after": _load_average(),
            "total_seconds": time.perf_counter() - started,
        },
        "runs": runs,
        "throughput_ratio": {
            name: {
                key: joint[f"{key}_examples_per_second"] / runs[name][f"{key}_examples_per_second"]
                for key in ("steady", "first_epoch")
            }
            for name in (
                f"tutorial @ {batch_size}",
                f"tutorial, no train-time top-k @ {batch_size}",
            )
        },
        "time_to_quality": {
            name: {"recall": recall, "rmse": rmse, **time_to(joint, recall, rmse)}
            for name, (recall, rmse) in targets.items()
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    args.out.with_suffix(".md").write_text(table)
    print(table)
    return results


if __name__ == "__main__":
    main()
