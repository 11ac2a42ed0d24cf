"""The user-interest head against what a lookup of the training data gives, by dataset.

    TFRS_MTL_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/prediction_quality.py \
        [--cases movielens-100k synthetic-ecommerce] [--seeds 0 1 2]

Every run is the library's own experiment path (`tfrs_mtl.experiments.run_experiment`,
library defaults plus the opt-in `interest` task; the served blend is stage 1's, since the
lists are not what is measured here). The interest head is scored per test user against the
class distribution (genres, categories) of the user's TEST positives (`interest/kl`,
`interest/top3_recall`; `tfrs_mtl.experiments.interest_evaluation`), beside two baselines
in the same run: the global distribution of the training positives (popularity) and the
user's own training profile, shrunk towards it by a prior chosen on the training rows.

Writes `benchmarks/results/prediction_quality.{json,md}` (or `_<tag>`): per case the
mean ± std over seeds of each score, and in how many seeds the head beat each baseline.
"""

from __future__ import annotations

import argparse
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

from tfrs_mtl.experiments import ExperimentConfig, dataset_tasks, run_experiment

RESULTS = Path(__file__).parent / "results"
CASES = ("movielens-100k", "synthetic-ecommerce")
#: (row label, metric prefix) of the interest predictions compared.
PREDICTORS = (
    ("interest head", "interest"),
    ("training profile (shrunk)", "baselines/training_profile/interest"),
    ("global distribution", "baselines/popularity/interest"),
)
SCORES = ("kl", "top3_recall")


def config_of(case: str, seed: int) -> ExperimentConfig:
    return ExperimentConfig(
        dataset=case,
        seed=seed,
        tasks=(*dataset_tasks(case), "interest"),
        baselines=("popularity",),
        blend={"retrieval": 1.0},
        validate_each_epoch=False,
    )


def run_once(config: ExperimentConfig) -> dict[str, float]:
    result = run_experiment(config, None, progress=False)
    tf.keras.backend.clear_session()
    return {
        f"{prefix}/{score}": result.metrics[f"{prefix}/{score}"]
        for _, prefix in PREDICTORS
        for score in SCORES
    }


def summarise(runs: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Mean and population std of every score over the runs, and the head's wins."""
    summary: dict[str, Any] = {}
    for name in sorted({name for metrics in runs.values() for name in metrics}):
        values = np.array([metrics[name] for metrics in runs.values()])
        summary[name] = {"mean": float(values.mean()), "std": float(values.std())}
    wins = {}
    for _, prefix in PREDICTORS[1:]:
        wins[prefix] = {
            "kl": sum(m["interest/kl"] < m[f"{prefix}/kl"] for m in runs.values()),
            "top3_recall": sum(
                m["interest/top3_recall"] > m[f"{prefix}/top3_recall"] for m in runs.values()
            ),
        }
    summary["head_wins"] = wins
    return summary


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# User interest: the head against lookups of the training data",
        "",
        f"`{meta['command']}` ({meta['date_utc']}, {meta['machine']}, TensorFlow "
        f"{meta['tensorflow']}, {meta['total_seconds']:.0f} s). Scored per test user against "
        "the class distribution of their test positives; mean ± std over seeds. KL in nats "
        "(lower is better); top-3 recall: the test mass on the three classes predicted most "
        "likely (higher is better).",
    ]
    for case, found in results["cases"].items():
        summary, runs = found["summary"], found["runs"]
        lines += [
            "",
            f"## {case} ({len(runs)} seeds: {', '.join(runs)})",
            "",
            "| prediction | KL(held-out ‖ predicted) | top-3 recall |",
            "|---|---|---|",
        ]
        for label, prefix in PREDICTORS:
            cells = [
                f"{summary[f'{prefix}/{s}']['mean']:.4f} ± {summary[f'{prefix}/{s}']['std']:.4f}"
                for s in SCORES
            ]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
        for label, prefix in PREDICTORS[1:]:
            wins = summary["head_wins"][prefix]
            lines.append(
                f"- head better than the {label}: KL in {wins['kl']}/{len(runs)} seeds, "
                f"top-3 recall in {wins['top3_recall']}/{len(runs)}"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tag", default="", help="results file suffix")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cases: dict[str, Any] = {}
    for case in args.cases:
        runs: dict[str, dict[str, float]] = {}
        for seed in args.seeds:
            runs[f"seed {seed}"] = run_once(config_of(case, seed))
            shown = {key: round(value, 4) for key, value in runs[f"seed {seed}"].items()}
            print(f"{case} seed {seed}: {shown}", flush=True)
        cases[case] = {"runs": runs, "summary": summarise(runs)}
    results = {
        "meta": {
            "command": " ".join(["benchmarks/prediction_quality.py", *sys.argv[1:]]),
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, shared with other jobs",
            "tensorflow": tf.__version__,
            "total_seconds": time.perf_counter() - started,
        },
        "cases": cases,
    }
    stem = RESULTS / ("prediction_quality" + (f"_{args.tag}" if args.tag else ""))
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    stem.with_suffix(".md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
