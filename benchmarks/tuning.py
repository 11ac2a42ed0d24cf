"""What `tfrs-mtl tune` buys over the library defaults: on the validation carve-out and on test.

    TFRS_MTL_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/tuning.py \
        [--datasets movielens-100k retailrocket] [--budget 20m] [--seed 0]

Per dataset, in one process:

1. `tune_experiment` (the library's `tfrs-mtl tune`) searches for `--budget` on a 20%
   carve-out of the training rows; trial 0 is the default config, so the carve-out score of
   the default and of the best trial come from the same search; the best trials that beat
   the default are trained again beside it on a second carve-out, which chooses;
2. the default config and the tuned config are each trained on all training rows through the
   library's experiment path (`train_and_evaluate`, blend fitting included, as `tfrs-mtl
   train` runs) and scored once on the test rows: served (`recommend`) and stage-1 lists;
3. the baselines (popularity, EASE, item-kNN, biased MF where there are ratings) run in the
   default's run, on the same split.

Writes `benchmarks/results/tuning_<dataset>_seed<seed>.{json,md}` per dataset, as each one
finishes. Wall times are of one process on a shared 2-core machine; the budget is wall time,
so a busier machine runs fewer trials.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import result_files
import tensorflow as tf

from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data
from tfrs_mtl.experiments.experiment_run import train_and_evaluate
from tfrs_mtl.experiments.tuning import parse_budget, tune_experiment

RESULTS = Path(__file__).parent / "results"
DATASETS = ("movielens-100k", "retailrocket", "synthetic-ecommerce")
BASELINES = ("popularity", "ease", "item_knn", "matrix_factorization")
SHOWN = ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "purchase_recall@20", "graded_ndcg@10")


def run_once(config: ExperimentConfig) -> dict[str, float]:
    """Test metrics of one library run (served, stage 1, baselines) and its wall time."""
    data = load_experiment_data(config)
    train, test = split_experiment_data(data, config.split)
    start = time.perf_counter()
    result = train_and_evaluate(config, data, train, test, progress=False)
    metrics = dict(result.metrics)
    metrics["wall_seconds"] = time.perf_counter() - start
    tf.keras.backend.clear_session()
    return metrics


def knob_changes(default: ExperimentConfig, tuned: ExperimentConfig) -> dict[str, Any]:
    """The config fields the search changed, `{field: [default, tuned]}`."""
    before, after = default.to_dict(), tuned.to_dict()
    return {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }


def run_dataset(dataset: str, budget: float, seed: int) -> dict[str, Any]:
    baselines = tuple(
        name for name in BASELINES if dataset == "movielens-100k" or name != "matrix_factorization"
    )
    default = ExperimentConfig(
        dataset=dataset, seed=seed, baselines=baselines, validate_each_epoch=False
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        search = tune_experiment(default, budget, Path(folder), progress=True)
    tune_seconds = time.perf_counter() - started
    tuned = search.best_config.replace(baselines=())
    found: dict[str, Any] = {
        "validation_ndcg@10": {"default": search.default_value, "tuned": search.best_value},
        "trials": search.trials,
        "confirmation": search.confirmation,
        "chosen_trial": search.chosen_trial,
        "tune_seconds": tune_seconds,
        "changed": knob_changes(default.replace(baselines=()), tuned),
        "test": {"default": run_once(default)},
    }
    found["test"]["tuned"] = run_once(tuned) if found["changed"] else found["test"]["default"]
    return found


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# Tuned against default: validation carve-out and test",
        "",
        f"{result_files.run_line(meta)}. Budget {meta['budget']} of "
        f"wall time per dataset, seed {meta['seed']}. Validation: stage-1 NDCG@10 on a 20% "
        "carve-out of the training rows (what the search maximises), then on a second "
        "carve-out (the next seed), where the search's best trials that beat the default "
        "and the default itself are trained again and the best there is chosen. Test: the "
        "test rows, read once per config after training on all training rows, blend fitting "
        "included.",
        "",
        "| dataset | trials (pruned) | chosen trial | validation NDCG@10 default → chosen | "
        "second carve-out default → chosen | test served NDCG@10 default → tuned | test "
        "stage-1 NDCG@10 default → tuned | best baseline (test NDCG@10) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dataset, found in results["datasets"].items():
        trials = found["trials"]
        pruned = sum(trial["state"] == "pruned" for trial in trials)
        default, tuned = found["test"]["default"], found["test"]["tuned"]
        baselines = {
            name: default[f"baselines/{name}/retrieval/ndcg@10"]
            for name in BASELINES
            if f"baselines/{name}/retrieval/ndcg@10" in default
        }
        best = max(baselines, key=baselines.__getitem__, default=None)
        validation = found["validation_ndcg@10"]
        second = {c["number"]: c["confirmed"] for c in found.get("confirmation", [])}
        chosen = found.get("chosen_trial", 0)
        lines.append(
            f"| {dataset} | {len(trials)} ({pruned}) | {chosen} | "
            f"{_number(validation['default'])} → {_number(validation['tuned'])} | "
            f"{_number(second.get(0))} → {_number(second.get(chosen))} | "
            f"{default['served/ndcg@10']:.4f} → "
            f"{tuned['served/ndcg@10']:.4f} | {default['retrieval/ndcg@10']:.4f} → "
            f"{tuned['retrieval/ndcg@10']:.4f} | "
            + (f"{best} {baselines[best]:.4f}" if best else "-")
            + " |"
        )
    for dataset, found in results["datasets"].items():
        default, tuned = found["test"]["default"], found["test"]["tuned"]
        metrics = [m for m in SHOWN if f"served/{m}" in default]
        lines += [
            "",
            f"## {dataset}",
            "",
            f"- tuning wall time {found['tune_seconds']:.0f} s; knobs changed: "
            + (
                ", ".join(
                    f"`{key}` {before!r} → {after!r}"
                    for key, (before, after) in found["changed"].items()
                )
                or "none (the default stayed best)"
            ),
            "",
            *(
                f"- trial {c['number']}: NDCG@10 {c['value']:.4f} on the search's carve-out, "
                f"{c['confirmed']:.4f} on the second"
                for c in found.get("confirmation", [])
            ),
            "",
            "| test list | " + " | ".join(metrics) + " |",
            "|---|" + "---|" * len(metrics),
        ]
        for name, metrics_of, prefix in (
            ("default, served", default, "served"),
            ("**tuned, served**", tuned, "served"),
            ("default, stage 1", default, "retrieval"),
            ("tuned, stage 1", tuned, "retrieval"),
            *(
                (baseline, default, f"baselines/{baseline}/retrieval")
                for baseline in BASELINES
                if f"baselines/{baseline}/retrieval/ndcg@10" in default
            ),
        ):
            lines.append(
                f"| {name} | "
                + " | ".join(_number(metrics_of.get(f"{prefix}/{m}")) for m in metrics)
                + " |"
            )
        if "rating/rmse" in default:
            lines.append(
                f"\n- rating RMSE: default {default['rating/rmse']:.4f}, tuned "
                f"{tuned['rating/rmse']:.4f}"
                + (
                    f", MF {default['baselines/matrix_factorization/rating/rmse']:.4f}"
                    if "baselines/matrix_factorization/rating/rmse" in default
                    else ""
                )
            )
        lines.append(
            f"- wall time of one run (blend fitting, training, evaluation, baselines): default "
            f"{default['wall_seconds']:.0f} s, tuned {tuned['wall_seconds']:.0f} s"
        )
    return "\n".join(lines) + "\n"


def write_results(dataset: str, found: dict[str, Any], meta: dict[str, Any]) -> str:
    """Writes `tuning_<dataset>_seed<seed>.{json,md}` and returns the markdown."""
    results = {"meta": meta, "datasets": {dataset: found}}
    table = markdown(results)
    result_files.write_results(RESULTS / f"tuning_{dataset}_seed{meta['seed']}", results, table)
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["movielens-100k", "retailrocket"])
    parser.add_argument("--budget", default="20m", help="tuning wall time per dataset")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.datasets) - set(DATASETS))
    if unknown:
        parser.error(f"unknown datasets {unknown}; choose from {list(DATASETS)}")
    budget = parse_budget(args.budget)
    for dataset in args.datasets:
        started = time.perf_counter()
        found = run_dataset(dataset, budget, args.seed)
        meta = result_files.run_meta(
            "benchmarks/tuning.py", started, budget=args.budget, seed=args.seed
        )
        print(write_results(dataset, found, meta), flush=True)


if __name__ == "__main__":
    main()
