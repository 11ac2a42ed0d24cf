"""How much a ranking stage could add to purchases on the synthetic shop: its planted truth
in place of the ranking heads.

    TFRS_MTL_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/purchase_ranking_headroom.py \
        [--cases synthetic-1k synthetic-2k] [--seeds 0 1 2]

The synthetic shop plants each user-item pair's affinity, the item's price and the funnel
that turns a view into a purchase (`tfrs_mtl.data.synthetic_truth`). Per case and seed this
program trains the library's default (`train_and_evaluate`: the served blend fitted on a
carve-out of the training rows), takes stage 1's candidates for every test user (the built
index, `num_candidates`, training items excluded), and re-ranks them by stage 1's score plus
one planted signal, each standardised over the user's candidates as the served blend does
(`standardised_scores`), at every weight of `WEIGHTS`:

- `purchase given view`: the planted probability that a view of the item ends in a purchase
  (its log): what a perfect purchase head adds;
- `affinity`: the planted user-item affinity that drives views, carts and purchases alike;
- `price`: minus the item's planted price score, the funnel's only item-side term.

Scored: purchase Recall@20 of each re-ranked top 20 over stage 1's own top 20 of the same
candidates, beside the default served list over stage 1 (`served/` over `retrieval/` of the
run). A signal's row is its best weight's mean over the seeds, the weight chosen on the test
rows: a ceiling for what a ranker reading that signal could add, not a result. The program
answers one question: on this shop, does the head room lie in the price and the funnel (which
a purchase head reads) or in the affinity (which stage 1 already estimates from the same
interactions)?

Writes `benchmarks/results/purchase_ranking_headroom.{json,md}` (or `_<tag>`).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split

import numpy as np
import tensorflow as tf
from result_files import run_line, run_meta, write_results
from served_quality import SYNTHETIC_SIZES

from tfrs_mtl.data.synthetic import generate_synthetic_ecommerce
from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data
from tfrs_mtl.experiments.experiment_run import train_and_evaluate
from tfrs_mtl.experiments.model_evaluation import user_table
from tfrs_mtl.experiments.served_evaluation import list_metrics, seen_items, served_lists
from tfrs_mtl.serving.blend import standardised_scores

RESULTS = Path(__file__).parent / "results"
#: (users, items, views): the library's default shop and the 2,000-item size.
CASES: dict[str, tuple[int, int, int]] = {
    "synthetic-1k": (
        ExperimentConfig.synthetic_num_users,
        ExperimentConfig.synthetic_num_items,
        ExperimentConfig.synthetic_num_events,
    ),
    "synthetic-2k": SYNTHETIC_SIZES["synthetic-2k"],
}
SIGNALS = ("purchase given view", "affinity", "price")
WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
METRIC = "purchase_recall@20"
DEPTH = 20


def reranked(
    items: np.ndarray, stage_one: np.ndarray, signal: np.ndarray, valid: np.ndarray, weight: float
) -> np.ndarray:
    """`[users, DEPTH]` the candidates `items` `[users, n]` re-ranked by stage 1's standardised
    score plus `weight` times the signal's (stable on ties, invalid slots last)."""
    blended = standardised_scores(stage_one, valid) + weight * standardised_scores(signal, valid)
    order = np.argsort(-np.where(valid, blended, -np.inf), axis=1, kind="stable")[:, :DEPTH]
    return np.take_along_axis(items, order, axis=1)


def headroom_run(case: str, seed: int) -> dict[str, Any]:
    """One trained default: the served and stage-1 metric of the run, and each signal's
    re-ranked metric over stage 1's top 20 of the same candidates at every weight."""
    users_count, items_count, views = CASES[case]
    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        seed=seed,
        baselines=(),
        validate_each_epoch=False,
        synthetic_num_users=users_count,
        synthetic_num_items=items_count,
        synthetic_num_events=views,
    )
    data = load_experiment_data(config)
    train, test = split_experiment_data(data, config.split)
    result = train_and_evaluate(config, data, train, test, progress=False)
    truth = generate_synthetic_ecommerce(users_count, items_count, views, seed=seed).truth
    users = np.unique(data.user_index[data.positives(test)])
    candidates = served_lists(
        result.recommender,
        data,
        user_table(data, result.model, train),
        users,
        seen_items(data, train),
        k=config.num_candidates,
        num_candidates=config.num_candidates,
        blend={"retrieval": 1.0},
    )
    valid = candidates.valid
    ids = data.item_ids[np.maximum(candidates.item_rows, 0)].astype(np.int64)
    owners = np.repeat(data.user_ids[users].astype(np.int64), ids.shape[1])
    flat = ids.reshape(-1)
    purchase = truth.funnel_probabilities(owners, flat)["purchase"]
    signals = {
        "purchase given view": np.log(np.maximum(purchase, 1e-12)).reshape(ids.shape),
        "affinity": truth.affinity(owners, flat).reshape(ids.shape),
        "price": -truth.price_score(flat).reshape(ids.shape),
    }

    def score(lists: np.ndarray) -> float:
        return float(list_metrics(lists, users, data, train, test)[METRIC])

    stage_one = candidates.scores["retrieval"]
    reference = score(candidates.item_rows[:, :DEPTH])
    found: dict[str, Any] = {
        "served": result.metrics[f"served/{METRIC}"],
        "stage_one": result.metrics[f"retrieval/{METRIC}"],
        "candidates_stage_one": reference,
        "blend": result.model.default_blend,
    }
    for name, values in signals.items():
        found[name] = {
            str(weight): score(reranked(candidates.item_rows, stage_one, values, valid, weight))
            / reference
            for weight in WEIGHTS
        }
    tf.keras.backend.clear_session()
    return found


def summarise(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Over one case's seeds: the default's served / stage-1 ratio (mean, min, max) and each
    signal's best weight by its mean ratio, with that mean."""
    served = [run["served"] / run["stage_one"] for run in runs.values()]
    summary: dict[str, Any] = {
        "served_over_stage_one": [float(np.mean(served)), min(served), max(served)]
    }
    for name in SIGNALS:
        means = {
            weight: float(np.mean([run[name][weight] for run in runs.values()]))
            for weight in next(iter(runs.values()))[name]
        }
        best = max(means, key=lambda weight: means[weight])
        summary[name] = {"weight": float(best), "ratio": means[best]}
    return summary


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# Purchase head room on the synthetic shop: planted signals in place of the ranker",
        "",
        f"{run_line(meta)}. Seeds {meta['seeds']}. "
        f"Purchase Recall@20 over stage 1's top 20 of the same {meta['num_candidates']} "
        "candidates per test user. Planted columns: stage 1's standardised score plus a "
        "planted signal's at the best weight (chosen on the test rows: a ceiling, not a "
        "result), mean over the seeds.",
        "",
        "| case | default served / stage 1 (min-max) | + planted P(purchase given view) "
        "| + planted affinity | + planted price |",
        "|---|---|---|---|---|",
    ]
    for case, summary in results["summary"].items():
        mean, low, high = summary["served_over_stage_one"]
        cells = [
            f"{summary[name]['ratio']:.3f} (weight {summary[name]['weight']:g})" for name in SIGNALS
        ]
        lines.append(f"| {case} | {mean:.3f} ({low:.3f}-{high:.3f}) | " + " | ".join(cells) + " |")
    lines += ["", "Per seed (ratio over stage 1's top 20 of the candidates, by weight):", ""]
    lines += ["| case, seed | signal | " + " | ".join(f"{w:g}" for w in WEIGHTS) + " |"]
    lines += ["|---|---|" + "---:|" * len(WEIGHTS)]
    for case, runs in results["runs"].items():
        for seed, run in runs.items():
            for name in SIGNALS:
                values = " | ".join(f"{run[name][str(w)]:.3f}" for w in WEIGHTS)
                lines.append(f"| {case} seed {seed} | {name} | {values} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, run: Callable[[str, int], dict] = headroom_run) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--tag", default="", help="results file suffix")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    runs: dict[str, dict[str, Any]] = {}
    for case in args.cases:
        runs[case] = {}
        for seed in args.seeds:
            runs[case][str(seed)] = run(case, seed)
            print(f"{case} seed {seed}: {runs[case][str(seed)]}", flush=True)
    results = {
        "meta": run_meta(
            "benchmarks/purchase_ranking_headroom.py",
            started,
            seeds=args.seeds,
            num_candidates=ExperimentConfig.num_candidates,
        ),
        "runs": runs,
        "summary": {case: summarise(found) for case, found in runs.items()},
    }
    table = markdown(results)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / ("purchase_ranking_headroom" + (f"_{args.tag}" if args.tag else ""))
    write_results(stem, results, table)
    print(table)
    return results


if __name__ == "__main__":
    main()
