"""The side predictions (user interest, item attributes) against lookups, by dataset.

    TFRS_MTL_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/prediction_quality.py \
        [--parts interest attributes cold_items] [--cases movielens-100k synthetic-ecommerce] \
        [--seeds 0 1 2]

Every run is the library's own experiment path (`tfrs_mtl.experiments.run_experiment`,
library defaults plus the opt-in `interest` task; the served blend is stage 1's, since the
lists are not what is measured here). The interest head is scored per test user against the
class distribution (genres, categories) of the user's TEST positives (`interest/kl`,
`interest/top3_recall`; `tfrs_mtl.experiments.interest_evaluation`), beside two baselines
in the same run: the global distribution of the training positives (popularity) and the
user's own training profile, shrunk towards it by a prior chosen on the training rows.

`attributes`: the default model with `attribute_holdout=0.2` (a seeded, label-stratified
fifth of the items has its attributes hidden in training) completes the attributes of
exactly those items (`genres/*` on MovieLens, `category/*`, `brand/*` and `price/*` on the
shop) from the closest known items in its item space, and its attribute heads predict them
too (`<attribute>/head_*`), beside label frequency, item-kNN label propagation over
co-interactions and the attribute tasks trained alone (`attribute_single_task`, scored both
ways), all in the same run (`tfrs_mtl.experiments.attribute_evaluation`); on the shop also
the price predicted as the mean of the item's true category, a reference that reads the
category the holdout hides.

`cold_items`: `cold_items=0.1` (every training interaction of a seeded tenth of the items
removed; their test rows kept) with the attribute path (the candidate tower trained at
`item_id_dropout` `COLD_ITEM_ID_DROPOUT`, MovieLens titles read) and without it (the
default model), both on the default served path (fitted blend):
the cold items ranked among themselves by the retrieval score (`cold_items/recall@20`,
`ndcg@20`) beside the category-popularity baseline of the same run, the cold items found
in and their share of the served lists, and the served lists scored on the warm items'
test interactions (`tfrs_mtl.experiments.cold_items`). On the synthetic shop the cold items
are also ranked by the generator's planted factors and popularity: how far any ranking of
them can go.

Writes `benchmarks/results/prediction_quality.{json,md}` (or `_<tag>`): per part and case
the mean ± std over seeds of each score, and in how many seeds the model beat each baseline.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import tensorflow as tf
from result_files import run_line, run_meta, write_results

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
PARTS = ("interest", "attributes", "cold_items")
#: The item-id dropout of the cold-item runs (chosen on validation carve-outs).
COLD_ITEM_ID_DROPOUT = 0.1
#: (row label, metric prefix) of the cold-item rankings compared; the model's runs are
#: prefixed `with/` (item-id dropout) and `without/`.
COLD_PREDICTORS = (
    ("model with the attribute path", "with/cold_items/"),
    ("model without it (the default)", "without/cold_items/"),
    ("category popularity", "with/baselines/category_popularity/cold_items/"),
    ("planted factors and popularity (synthetic only)", "planted/cold_items/"),
)
COLD_SCORES = (
    "recall@20",
    "ndcg@20",
    "served_recall@20",
    "served_share@10",
    "warm_served_recall@10",
    "warm_served_ndcg@10",
)
#: The row prefix of a model's attribute heads: `heads/category/accuracy` is read from the
#: run's `category/head_accuracy` (a model's completion in its item space is `category/*`).
HEADS = "heads/"
#: (row label, metric prefix) of the attribute predictions compared.
ATTRIBUTE_PREDICTORS = (
    ("multi-task model (item space)", ""),
    ("multi-task model's heads", HEADS),
    ("attribute tasks alone (item space)", "baselines/attribute_single_task/"),
    ("attribute tasks alone, their heads", f"baselines/attribute_single_task/{HEADS}"),
    ("item-kNN label propagation", "baselines/item_knn/"),
    ("label frequency", "baselines/label_frequency/"),
    ("mean price of the category item-kNN gives it", "baselines/category_mean/"),
    ("its category's mean price (the hidden category given)", "baselines/category_given/"),
)
#: Per case: the attribute scores, each with whether higher is better.
ATTRIBUTE_SCORES: dict[str, tuple[tuple[str, bool], ...]] = {
    "movielens-100k": (("genres/micro_f1", True), ("genres/macro_f1", True), ("genres/auc", True)),
    "synthetic-ecommerce": (
        ("category/accuracy", True),
        ("category/top5_accuracy", True),
        ("brand/accuracy", True),
        ("price/rmse", False),
        ("price/mape", False),
    ),
}


def run_metric(prefix: str, score: str) -> str:
    """The run's metric behind the row `prefix` and the score `score` (`group/metric`)."""
    if not prefix.endswith(HEADS):
        return f"{prefix}{score}"
    group, metric = score.split("/", 1)
    return f"{prefix.removesuffix(HEADS)}{group}/head_{metric}"


def config_of(case: str, seed: int) -> ExperimentConfig:
    return ExperimentConfig(
        dataset=case,
        seed=seed,
        tasks=(*dataset_tasks(case), "interest"),
        baselines=("popularity",),
        blend={"retrieval": 1.0},
        validate_each_epoch=False,
    )


def attribute_config_of(case: str, seed: int) -> ExperimentConfig:
    return ExperimentConfig(
        dataset=case,
        seed=seed,
        attribute_holdout=0.2,
        baselines=("attribute_single_task",),
        blend={"retrieval": 1.0},
        validate_each_epoch=False,
    )


def cold_config_of(case: str, seed: int, attribute_path: bool) -> ExperimentConfig:
    """The cold-item run; with `attribute_path`, the candidate tower trained to embed items
    from their attributes: item-id dropout, and on MovieLens the titles read too
    (`side_features`; the shop's towers read every item attribute already)."""
    return ExperimentConfig(
        dataset=case,
        seed=seed,
        cold_items=0.1,
        item_id_dropout=COLD_ITEM_ID_DROPOUT if attribute_path else 0.0,
        side_features=attribute_path,
        baselines=("popularity",),
        validate_each_epoch=False,
    )


def run_cold_once(case: str, seed: int) -> dict[str, float]:
    """The cold-item metrics of the model with and without the attribute path (same cold
    items: same seed) and the baseline's, prefixed `with/` and `without/`."""
    found = planted_cold_metrics(case, seed)
    for prefix, path in (("with/", True), ("without/", False)):
        result = run_experiment(cold_config_of(case, seed, path), None, progress=False)
        tf.keras.backend.clear_session()
        found.update(
            {
                f"{prefix}{key}": value
                for key, value in result.metrics.items()
                if "cold_items/" in key
            }
        )
    return found


def planted_cold_metrics(case: str, seed: int) -> dict[str, float]:
    """The synthetic shop only: the cold items ranked by the generator's own view model
    (`tfrs_mtl.data.synthetic`), the planted truth no attribute reveals in full: the user's
    softmax preference for the item's category (category weights taken as their item
    shares) times the exponentiated affinity of the true factors, times the item's
    popularity. A reference for how far any ranking of the cold items can go; empty
    elsewhere."""
    if case != "synthetic-ecommerce":
        return {}
    import inspect

    from tfrs_mtl.data.synthetic import generate_synthetic_ecommerce
    from tfrs_mtl.experiments.cold_items import ranking_metrics_over_cold_items
    from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data

    config = cold_config_of(case, seed, attribute_path=True)
    data = load_experiment_data(config)
    _, test = split_experiment_data(data, config.split)
    truth = generate_synthetic_ecommerce(
        num_users=config.synthetic_num_users,
        num_items=config.synthetic_num_items,
        num_events=config.synthetic_num_events,
        seed=seed,
    ).truth
    sharpness = (
        inspect.signature(generate_synthetic_ecommerce).parameters["preference_sharpness"].default
    )
    users = data.user_ids.astype(np.int64)
    items = data.item_ids.astype(np.int64)
    user_factors = truth.user_factors[users].astype(np.float64)
    centroids = truth.category_centroids.astype(np.float64)
    shares = np.bincount(truth.item_category, minlength=len(centroids)) / len(truth.item_category)
    logits = sharpness * user_factors @ centroids.T + np.log(np.maximum(shares, 1e-12))
    preference = np.exp(logits - logits.max(axis=1, keepdims=True))
    preference /= preference.sum(axis=1, keepdims=True)
    affinity = user_factors @ truth.item_factors[items].astype(np.float64).T
    scores = (
        preference[:, truth.item_category[items]]
        * np.exp(sharpness * (affinity - affinity.max(axis=1, keepdims=True)))
        * truth.item_popularity[items][None, :]
    )
    assert data.cold_items is not None
    found = ranking_metrics_over_cold_items(scores, np.eye(len(items)), data, test, data.cold_items)
    return {f"planted/cold_items/{name}": value for name, value in found.items()}


def summarise_cold(runs: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Mean and population std of every score, and the per-run ratios the targets read:
    cold recall@20 over the baseline's, warm served NDCG@10 with dropout over without."""
    summary: dict[str, Any] = {}
    for name in sorted({name for metrics in runs.values() for name in metrics}):
        values = np.array([metrics[name] for metrics in runs.values() if name in metrics])
        summary[name] = {"mean": float(values.mean()), "std": float(values.std())}
    ratios = {
        "recall@20 over category popularity": [
            m["with/cold_items/recall@20"]
            / m["with/baselines/category_popularity/cold_items/recall@20"]
            for m in runs.values()
        ],
        "warm served NDCG@10, attribute path over the default": [
            m["with/cold_items/warm_served_ndcg@10"] / m["without/cold_items/warm_served_ndcg@10"]
            for m in runs.values()
        ],
    }
    summary["ratios"] = {
        name: {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v))}
        for name, v in ratios.items()
    }
    return summary


def run_once(config: ExperimentConfig) -> dict[str, float]:
    result = run_experiment(config, None, progress=False)
    tf.keras.backend.clear_session()
    return {
        f"{prefix}/{score}": result.metrics[f"{prefix}/{score}"]
        for _, prefix in PREDICTORS
        for score in SCORES
    }


def run_attributes_once(case: str, config: ExperimentConfig) -> dict[str, float]:
    result = run_experiment(config, None, progress=False)
    tf.keras.backend.clear_session()
    return {
        f"{prefix}{score}": result.metrics[run_metric(prefix, score)]
        for _, prefix in ATTRIBUTE_PREDICTORS
        for score, _ in ATTRIBUTE_SCORES[case]
        if run_metric(prefix, score) in result.metrics
    }


def summarise_attributes(case: str, runs: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Mean and population std of every score over the runs, and the model's wins."""
    summary: dict[str, Any] = {}
    for name in sorted({name for metrics in runs.values() for name in metrics}):
        values = np.array([metrics[name] for metrics in runs.values() if name in metrics])
        summary[name] = {"mean": float(values.mean()), "std": float(values.std())}
    wins: dict[str, dict[str, int]] = {}
    for _, prefix in ATTRIBUTE_PREDICTORS[1:]:
        wins[prefix] = {}
        for score, higher in ATTRIBUTE_SCORES[case]:
            pairs = [
                (m[score], m[f"{prefix}{score}"])
                for m in runs.values()
                if score in m and f"{prefix}{score}" in m
            ]
            if pairs:  # a predictor without this score (the heads' brand) has no row
                wins[prefix][score] = sum((a > b) if higher else (a < b) for a, b in pairs)
    summary["model_wins"] = wins
    return summary


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


def _table(
    case: str,
    found: dict[str, Any],
    predictors: tuple[tuple[str, str], ...],
    scores: tuple[str, ...] | list[str],
) -> list[str]:
    """A case's heading and its table: a row per predictor (label, metric prefix), mean ±
    std over the runs of each score ("-" where the predictor has none; no row where it has
    none of them), then a blank line."""
    summary, runs = found["summary"], found["runs"]
    lines = [
        "",
        f"### {case} ({len(runs)} seeds: {', '.join(runs)})",
        "",
        "| prediction | " + " | ".join(scores) + " |",
        "|---|" + "---|" * len(scores),
    ]
    for label, prefix in predictors:
        cells = [
            f"{summary[f'{prefix}{s}']['mean']:.4f} ± {summary[f'{prefix}{s}']['std']:.4f}"
            if f"{prefix}{s}" in summary
            else "-"
            for s in scores
        ]
        if set(cells) != {"-"}:  # a predictor of none of these scores has no row
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# Side predictions against lookups of the training data",
        "",
        f"{run_line(meta)}; mean ± std over seeds.",
    ]
    if results["cases"]:
        lines += [
            "",
            "## User interest",
            "",
            "Scored per test user against the class distribution of their test positives. KL "
            "in nats (lower is better); top-3 recall: the test mass on the three classes "
            "predicted most likely (higher is better).",
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
    attributes = results.get("attribute_cases", {})
    if attributes:
        lines += [
            "",
            "## Item attributes of held-out items",
            "",
            "A seeded, label-stratified 20% of the items has its attributes hidden in "
            "training (its interactions stay); every row scores exactly those items.",
        ]
    for case, found in attributes.items():
        summary, runs = found["summary"], found["runs"]
        scores = [score for score, _ in ATTRIBUTE_SCORES[case]]
        lines += _table(case, found, ATTRIBUTE_PREDICTORS, scores)
        for label, prefix in ATTRIBUTE_PREDICTORS[1:]:
            wins = summary["model_wins"][prefix]
            if not wins:  # a predictor of none of this case's scores
                continue
            lines.append(
                f"- model better than {label}: "
                + ", ".join(f"{s} in {wins[s]}/{len(runs)}" for s in scores if s in wins)
            )
    cold = results.get("cold_cases", {})
    if cold:
        lines += [
            "",
            "## Cold items",
            "",
            "Every training interaction of a seeded 10% of the items removed (their test rows "
            "kept); they are served from their attributes. recall@20 / ndcg@20: each user's "
            "test interactions with them when the cold items alone are ranked; served_*: the "
            "served lists (whole catalogue, fitted blend); warm_served_*: the served lists on "
            "the warm items' test interactions. The attribute path: item-id dropout "
            f"{COLD_ITEM_ID_DROPOUT}, MovieLens titles read (`side_features`).",
        ]
    for case, found in cold.items():
        lines += _table(case, found, COLD_PREDICTORS, COLD_SCORES)
        for name, ratio in found["summary"]["ratios"].items():
            lines.append(
                f"- {name}: {ratio['mean']:.3f} (min {ratio['min']:.3f}, max {ratio['max']:.3f})"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tag", default="", help="results file suffix")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cases: dict[str, Any] = {}
    attribute_cases: dict[str, Any] = {}
    cold_cases: dict[str, Any] = {}
    for case in args.cases:
        if "interest" in args.parts:
            runs: dict[str, dict[str, float]] = {}
            for seed in args.seeds:
                runs[f"seed {seed}"] = run_once(config_of(case, seed))
                shown = {key: round(value, 4) for key, value in runs[f"seed {seed}"].items()}
                print(f"{case} interest seed {seed}: {shown}", flush=True)
            cases[case] = {"runs": runs, "summary": summarise(runs)}
        if "attributes" in args.parts:
            runs = {}
            for seed in args.seeds:
                runs[f"seed {seed}"] = run_attributes_once(case, attribute_config_of(case, seed))
                shown = {key: round(value, 4) for key, value in runs[f"seed {seed}"].items()}
                print(f"{case} attributes seed {seed}: {shown}", flush=True)
            attribute_cases[case] = {"runs": runs, "summary": summarise_attributes(case, runs)}
        if "cold_items" in args.parts:
            runs = {}
            for seed in args.seeds:
                runs[f"seed {seed}"] = run_cold_once(case, seed)
                shown = {key: round(value, 4) for key, value in runs[f"seed {seed}"].items()}
                print(f"{case} cold items seed {seed}: {shown}", flush=True)
            cold_cases[case] = {"runs": runs, "summary": summarise_cold(runs)}
    results = {
        "meta": run_meta("benchmarks/prediction_quality.py", started),
        "cases": cases,
        "attribute_cases": attribute_cases,
        "cold_cases": cold_cases,
    }
    table = markdown(results)
    write_results(
        RESULTS / ("prediction_quality" + (f"_{args.tag}" if args.tag else "")), results, table
    )
    print(table)


if __name__ == "__main__":
    main()
