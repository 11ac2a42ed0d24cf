"""MovieLens-100K quality benchmark (issue 6): one jointly trained model vs the baselines.

    TFRS_MTL_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/movielens_quality.py \
        [--seeds 0 1 2] [--epochs N] [--quick] [--ablation] [--validation]

The `tutorial` split (80,000 train / 20,000 test), all 1,682 movies as candidates, each
user's training items masked, Recall@10 = hits / min(10, #test items of the user), binary
NDCG@10 (`tfrs_mtl.evaluation`). Rows:

* baselines: popularity, EASE (λ chosen on a validation carve-out of training by
  `select_ease`, and λ=500 for the issue's anchor), biased MF (ALS), and the TFRS multitask
  tutorial recipe (per seed);
* `joint`: the recommended `MultiTaskModel` (retrieval + rating + genres), exactly the
  library default (`ExperimentConfig().model_config()`, as `tfrs-mtl quickstart` trains it,
  `user_history` feature included), scored exactly
  (query tower against candidate tower) and through the ScaNN index of a
  `tfrs_mtl.serving.Recommender` (`index/*`, with `recall@10_vs_exact`);
* `retrieval_only`, `rating_only`, `genres_only`: the same architecture with one task
  (negative transfer);
* with `--ablation`: one-knob changes of `joint` (seed 0 only unless `--ablation-seeds`).

`--validation` scores on a seeded 20% of the training rows instead of the test rows (used to
choose the configuration without reading the test set; `--validation-fraction 0.1` is the
carve-out of sessions 1-4). Results go to
`benchmarks/results/movielens_quality{,_validation}.{json,md}`. Fixed seeds; wall times are
of one process on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import tensorflow as tf
from quality.model_runs import K, evaluate, train
from quality.movielens_data import VALIDATION_FRACTION, QualityData, load_quality_data
from quality.report import write_results
from quality.variants import VARIANTS, knobs_of, variant

from tfrs_mtl.evaluation.baselines import evaluate_baselines
from tfrs_mtl.evaluation.baselines.tfrs_tutorial import evaluate_tfrs_tutorial, train_tfrs_tutorial

RESULTS = Path(__file__).parent / "results"
MAIN_VARIANTS = ("joint", "retrieval_only", "rating_only", "genres_only")
ANCHOR_EASE_L2 = 500.0


def _flat(nested: dict[str, dict[str, float]]) -> dict[str, float]:
    return {
        f"{task}/{name}": value for task, values in nested.items() for name, value in values.items()
    }


def run_baselines(data: QualityData) -> dict[str, dict[str, float]]:
    """Deterministic baselines (MF seeded with 0): `{name: flat metrics}`."""
    found = evaluate_baselines(
        data.train_pairs,
        data.test_pairs,
        num_users=data.num_users,
        num_items=data.num_items,
        train_ratings=data.train["user_rating"],
        test_ratings=data.test["user_rating"],
        ks=(K,),
    )
    results = {name: _flat(metrics) for name, metrics in found.metrics.items()}
    results[f"ease (λ={found.ease_l2:g}, chosen on validation)"] = results.pop("ease")
    anchor = evaluate_baselines(
        data.train_pairs,
        data.test_pairs,
        num_users=data.num_users,
        num_items=data.num_items,
        ks=(K,),
        names=("ease",),
        ease_l2=ANCHOR_EASE_L2,
    )
    results[f"ease (λ={ANCHOR_EASE_L2:g})"] = _flat(anchor.metrics["ease"])
    return results


def run_tutorial(data: QualityData, seed: int) -> dict[str, float]:
    """The TFRS multitask tutorial recipe (joint weights 1/1, 3 epochs), library-scored."""
    start = time.perf_counter()
    tutorial = train_tfrs_tutorial(
        data.train,
        unique_user_ids=data.user_ids.astype(str),
        candidate_titles=data.catalogue["movie_title"].astype(str),
        seed=seed,
    )
    seconds = time.perf_counter() - start
    metrics, _ = evaluate_tfrs_tutorial(
        tutorial,
        user_ids=data.user_ids.astype(str),
        movie_titles=data.catalogue["movie_title"].astype(str),
        train_pairs=data.train_pairs,
        test_pairs=data.test_pairs,
        test_ratings=data.test["user_rating"],
        ks=(K,),
    )
    return {**_flat(metrics), "train_seconds": seconds}


def run_variant(
    name: str, data: QualityData, seeds: list[int], epochs: int | None, use_index: bool
) -> dict[str, Any]:
    config, training = variant(name)
    if epochs is not None:
        training = dataclasses.replace(training, epochs=epochs)
    per_seed: dict[str, dict[str, float]] = {}
    for seed in seeds:
        model, seconds = train(config, training, data, seed)
        per_seed[str(seed)] = {**evaluate(model, data, use_index), "train_seconds": seconds}
        print(f"  {name} seed {seed}: {_short(per_seed[str(seed)])}", flush=True)
        tf.keras.backend.clear_session()
    return {
        "knobs": {**knobs_of(name), **({"epochs": epochs} if epochs is not None else {})},
        "config": config.to_dict(),
        "knobs_changed": json.dumps(VARIANTS[name], default=str),
        "training": dataclasses.asdict(training),
        "seeds": per_seed,
    }


def _short(metrics: dict[str, float]) -> str:
    keys = (f"retrieval/recall@{K}", f"retrieval/ndcg@{K}", "rating/rmse", "train_seconds")
    return ", ".join(f"{key}={metrics[key]:.4f}" for key in keys if key in metrics)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="override every variant's")
    parser.add_argument("--quick", action="store_true", help="seed 0, 2 epochs, no ablation")
    parser.add_argument("--ablation", action="store_true", help="run the one-knob ablations")
    parser.add_argument("--ablation-seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--variants", nargs="+", default=None, help=f"of {sorted(VARIANTS)}")
    parser.add_argument("--validation", action="store_true", help="score on a train carve-out")
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=VALIDATION_FRACTION,
        help="share of the training rows carved out by --validation",
    )
    parser.add_argument("--no-index", action="store_true", help="skip the ScaNN index scoring")
    parser.add_argument("--no-tutorial", action="store_true", help="skip the TFRS tutorial")
    parser.add_argument("--tag", default="", help="results file suffix (keeps the main results)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.ablation = [0], 2, False
    started = time.perf_counter()
    if not 0 < args.validation_fraction < 1:
        parser.error(f"--validation-fraction {args.validation_fraction} is not in (0, 1)")
    data = load_quality_data(
        validation=args.validation, validation_fraction=args.validation_fraction
    )
    print(
        f"{data.evaluation}: {len(data.train_pairs[0])} train / {len(data.test_pairs[0])} "
        f"evaluation rows, {data.num_users} users, {data.num_items} items",
        flush=True,
    )
    baselines = run_baselines(data)
    tutorial = {} if args.no_tutorial else {str(s): run_tutorial(data, s) for s in args.seeds}
    for seed, metrics in tutorial.items():
        print(f"  tfrs_tutorial seed {seed}: {_short(metrics)}", flush=True)
    names = list(args.variants or MAIN_VARIANTS)
    models = {
        name: run_variant(name, data, args.seeds, args.epochs, use_index=not args.no_index)
        for name in names
    }
    ablation = {}
    if args.ablation:
        for name in VARIANTS:
            if name in MAIN_VARIANTS or name.startswith("retrieval_only_"):
                continue
            ablation[name] = run_variant(name, data, args.ablation_seeds, args.epochs, False)
    results = {
        "meta": {
            "dataset": "movielens-100k",
            "split": "tutorial",
            "evaluation": data.evaluation,
            "validation_fraction": args.validation_fraction if args.validation else None,
            "num_train": len(data.train_pairs[0]),
            "num_evaluation": len(data.test_pairs[0]),
            "num_users": data.num_users,
            "num_items": data.num_items,
            "seeds": args.seeds,
            "command": " ".join(["benchmarks/movielens_quality.py", *sys.argv[1:]]),
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, shared with other jobs",
            "tensorflow": tf.__version__,
            "total_seconds": time.perf_counter() - started,
        },
        "baselines": baselines,
        "tfrs_tutorial": tutorial,
        "models": models,
        "ablation": ablation,
    }
    suffix = ("_validation" if args.validation else "") + (f"_{args.tag}" if args.tag else "")
    table = write_results(results, RESULTS / f"movielens_quality{suffix}")
    print(table)


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
