"""What `recommend` serves against stage 1 alone, on every dataset, beside the baselines.

    TFRS_MTL_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/served_quality.py \
        [--cases movielens-100k u1-u5 ...] [--seeds 0 1 2 3 4]

Every run is the library's own experiment path (`tfrs_mtl.experiments.train_and_evaluate`,
as `tfrs-mtl train` runs it, library defaults): the served blend is fitted on a validation
carve-out of the training rows, then the model is trained on all training rows and scored on
the test rows through `recommend` itself (`served/*`) and by its exact stage-1 ranking
(`retrieval/*`). The baselines (popularity, EASE with λ chosen on validation, biased MF where
there are ratings) run in the same process on the same split. Cases:

* `movielens-100k`: the TFRS tutorial split (80/20, split seed fixed), one run per seed;
* `u1-u5`: MovieLens-100K's five canonical folds (seed 42);
* `movielens-100k-leave-last-1`, `movielens-100k-leave-last-5`: each user's latest rating
  (five latest ratings) held out, one run per seed;
* `movielens-100k-temporal`: the latest 20% of the ratings held out (one time cut for every
  user), one run per seed;
* `retailrocket`, `taobao-userbehavior`, `synthetic-ecommerce`: a random 80/20 split of
  the interactions (with sampled impressions, seeded), one run per seed; the split is the
  same for every seed (split seed 42) but on the synthetic shop, whose data each seed draws;
* `retailrocket-splits`: RetailRocket with the 80/20 split drawn again per run (split seed =
  the run's seed): the spread over test splits, not only over trainings;
* `synthetic-2k`, `synthetic-10k`, `synthetic-50k`: the generator at 2,000 / 10,000 / 50,000
  items (users and views in `SYNTHETIC_SIZES`), one run per seed;
* `synthetic-sparse`: the generator with far more items than views (most items viewed
  once, as in the Taobao sample), one run per seed.

The closing table puts every case's served NDCG@10 beside the best baseline's.

Writes `benchmarks/results/served_quality.{json,md}` (or `_<tag>`): per case the mean ± std
over runs of every served and stage-1 metric, each baseline's, the served/stage-1 ratios and
the wall time of the model's part (blend fitting, training, index, evaluation). Wall times
are of one process on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from result_files import run_line, run_meta, write_results

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import tensorflow as tf

from tfrs_mtl.data.split_config import SplitConfig
from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data
from tfrs_mtl.experiments.experiment_run import train_and_evaluate
from tfrs_mtl.experiments.served_evaluation import LIST_METRIC_NAMES

RESULTS = Path(__file__).parent / "results"
CASES = (
    "movielens-100k",
    "u1-u5",
    "movielens-100k-leave-last-1",
    "movielens-100k-leave-last-5",
    "movielens-100k-temporal",
    "retailrocket",
    "retailrocket-splits",
    "taobao-userbehavior",
    "synthetic-ecommerce",
    "synthetic-2k",
    "synthetic-10k",
    "synthetic-50k",
    "synthetic-sparse",
)
#: (users, items, views) of the synthetic catalogue sizes. `synthetic-sparse` asks for
#: 20,000 items and 4,000 views from 300 users: most items are viewed once (Taobao's shape).
SYNTHETIC_SIZES: dict[str, tuple[int, int, int]] = {
    "synthetic-2k": (4_000, 2_000, 40_000),
    "synthetic-10k": (10_000, 10_000, 100_000),
    "synthetic-50k": (25_000, 50_000, 250_000),
    "synthetic-sparse": (300, 20_000, 4_000),
}
LIST_METRICS = LIST_METRIC_NAMES
BASELINES = ("popularity", "ease", "item_knn", "matrix_factorization")


def runs_of(case: str, seeds: list[int]) -> list[tuple[str, ExperimentConfig]]:
    """`(run name, config)` of every run of a case."""
    if case == "u1-u5":
        return [
            (
                fold,
                ExperimentConfig(
                    split=SplitConfig(method="canonical", canonical_fold=fold),
                    baselines=BASELINES,
                    validate_each_epoch=False,
                ),
            )
            for fold in ("u1", "u2", "u3", "u4", "u5")
        ]
    options: dict[str, Any] = {"dataset": case}
    if case.startswith("movielens-100k-leave-last-"):
        last = int(case.rsplit("-", 1)[1])
        options = {"split": SplitConfig(method="leave_last_n", num_test_per_user=last)}
    if case == "movielens-100k-temporal":
        options = {"split": SplitConfig(method="temporal", train_fraction=0.8)}
    # The split drawn again per run: its seed is the run's.
    resplit = case == "retailrocket-splits"
    if resplit:
        options = {"dataset": "retailrocket"}
    if case in SYNTHETIC_SIZES:
        users, items, views = SYNTHETIC_SIZES[case]
        options = {
            "dataset": "synthetic-ecommerce",
            "synthetic_num_users": users,
            "synthetic_num_items": items,
            "synthetic_num_events": views,
        }
    # EASE's dense inverse is left out where the catalogue is too large for it.
    skip = {"ease"} if case == "synthetic-50k" else set()
    return [
        (
            f"split seed {seed}" if resplit else f"seed {seed}",
            ExperimentConfig(
                seed=seed,
                baselines=tuple(name for name in BASELINES if name not in skip),
                validate_each_epoch=False,
                **options,
                **({"split": SplitConfig(seed=seed)} if resplit else {}),
            ),
        )
        for seed in seeds
    ]


def run_once(config: ExperimentConfig) -> dict[str, float]:
    data = load_experiment_data(config)
    train, test = split_experiment_data(data, config.split)
    start = time.perf_counter()
    result = train_and_evaluate(config, data, train, test, progress=False)
    seconds = time.perf_counter() - start
    metrics = dict(result.metrics)
    metrics["model_seconds"] = seconds - sum(result.baselines.seconds.values())
    blend = result.model.default_blend or {}
    for name in ("retrieval", *result.model.ranking_task_names):
        metrics[f"blend/{name}"] = blend.get(name, 0.0)
    tf.keras.backend.clear_session()
    return metrics


def summarise(runs: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Mean and population std of every metric over the runs, and served/stage-1 ratios."""
    names = sorted({name for metrics in runs.values() for name in metrics})
    summary: dict[str, Any] = {}
    for name in names:
        values = np.array([metrics[name] for metrics in runs.values() if name in metrics])
        summary[name] = {"mean": float(values.mean()), "std": float(values.std())}
    ratios = {}
    for metric in LIST_METRICS:
        served, stage_one = f"served/{metric}", f"retrieval/{metric}"
        per_run = [
            metrics[served] / metrics[stage_one]
            for metrics in runs.values()
            if served in metrics and metrics.get(stage_one)
        ]
        if per_run:
            ratios[metric] = {
                "mean": float(np.mean(per_run)),
                "min": float(np.min(per_run)),
                "max": float(np.max(per_run)),
            }
    summary["served_over_stage_one"] = ratios
    return summary


def _cell(summary: dict[str, Any], key: str) -> str:
    found = summary.get(key)
    return "-" if found is None else f"{found['mean']:.4f} ± {found['std']:.4f}"


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# Served lists against stage 1, by dataset",
        "",
        f"{run_line(meta)}. Library defaults; the served "
        "blend fitted per run on a 20% carve-out of the training rows; mean ± std over runs.",
    ]
    for case, found in results["cases"].items():
        summary = found["summary"]
        metrics = [m for m in LIST_METRICS if f"retrieval/{m}" in summary]
        lines += [
            "",
            f"## {case} ({len(found['runs'])} runs: {', '.join(found['runs'])})",
            "",
            "| list | " + " | ".join(metrics) + " |",
            "|---|" + "---|" * len(metrics),
            "| **served (recommend)** | "
            + " | ".join(_cell(summary, f"served/{m}") for m in metrics)
            + " |",
            "| stage 1 (exact) | "
            + " | ".join(_cell(summary, f"retrieval/{m}") for m in metrics)
            + " |",
        ]
        for baseline in BASELINES:
            if f"baselines/{baseline}/retrieval/recall@10" in summary:
                lines.append(
                    f"| {baseline} | "
                    + " | ".join(
                        _cell(summary, f"baselines/{baseline}/retrieval/{m}") for m in metrics
                    )
                    + " |"
                )
        ratios = summary["served_over_stage_one"]
        lines += [
            "| served / stage 1 (mean, min-max) | "
            + " | ".join(
                f"{ratios[m]['mean']:.3f} ({ratios[m]['min']:.3f}-{ratios[m]['max']:.3f})"
                if m in ratios
                else "-"
                for m in metrics
            )
            + " |",
            "",
        ]
        rmse = [
            f"{name} {_cell(summary, key)}"
            for name, key in (
                ("model", "rating/rmse"),
                ("MF", "baselines/matrix_factorization/rating/rmse"),
            )
            if key in summary
        ]
        if rmse:
            lines.append(f"- rating RMSE: {'; '.join(rmse)}")
        blends = [
            f"{name.removeprefix('blend/')} {_cell(summary, name)}"
            for name in summary
            if name.startswith("blend/")
        ]
        lines.append(f"- fitted blend weights: {', '.join(blends)}")
        lines.append(
            f"- model wall time (blend fitting, training, index, evaluation): "
            f"{_cell(summary, 'model_seconds')} s; of it training the served model "
            f"{_cell(summary, 'train_seconds')} s"
        )
    lines += ["", *overview(results)]
    return "\n".join(lines) + "\n"


def overview(results: dict[str, Any]) -> list[str]:
    """One row per case: served and stage-1 NDCG@10 against every baseline's."""
    lines = [
        "## Every case: NDCG@10 (mean ± std over runs)",
        "",
        "| case | served | stage 1 | " + " | ".join(BASELINES) + " | served vs best baseline |",
        "|---|---|---|" + "---|" * len(BASELINES) + "---|",
    ]
    for case, found in results["cases"].items():
        summary = found["summary"]
        found_baselines = {
            name: summary[f"baselines/{name}/retrieval/ndcg@10"]["mean"]
            for name in BASELINES
            if f"baselines/{name}/retrieval/ndcg@10" in summary
        }
        best = max(found_baselines, key=found_baselines.__getitem__, default=None)
        served = summary["served/ndcg@10"]["mean"]
        versus = f"{served / found_baselines[best]:.3f}x {best}" if best else "-"
        lines.append(
            f"| {case} | {_cell(summary, 'served/ndcg@10')} | "
            f"{_cell(summary, 'retrieval/ndcg@10')} | "
            + " | ".join(_cell(summary, f"baselines/{n}/retrieval/ndcg@10") for n in BASELINES)
            + f" | {versus} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--tag", default="", help="results file suffix")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cases: dict[str, Any] = {}
    for case in args.cases:
        runs: dict[str, dict[str, float]] = {}
        for name, config in runs_of(case, args.seeds):
            runs[name] = run_once(config)
            shown = {
                key: round(runs[name][key], 4)
                for key in (
                    "served/ndcg@10",
                    "retrieval/ndcg@10",
                    "served/purchase_recall@20",
                    "retrieval/purchase_recall@20",
                    "model_seconds",
                )
                if key in runs[name]
            }
            print(f"{case} {name}: {shown}", flush=True)
        cases[case] = {"runs": runs, "summary": summarise(runs)}
    results = {"meta": run_meta("benchmarks/served_quality.py", started), "cases": cases}
    table = markdown(results)
    write_results(
        RESULTS / ("served_quality" + (f"_{args.tag}" if args.tag else "")), results, table
    )
    print(table)


if __name__ == "__main__":
    main()
