"""One knob's values scored on validation carve-outs of several data shapes: how a library
default is chosen.

    TFRS_MTL_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/default_selection.py \
        --knob retrieval_temperature --values 0.1 0.15 0.2 0.3 0.4 \
        [--cases movielens-100k synthetic-ecommerce ...] [--seeds 100 101] [--tag TAG]

Per case and seed the training rows of the case's split (`benchmarks/served_quality.py`'s
cases and configs) are split again as `tfrs-mtl tune` and the blend fit split them
(`validation_carve_out`, 20%, the run's seed); for each value the library's default config
with the knob at that value trains on the rest and is scored by what `tune` maximises
(`tfrs_mtl.experiments.tuning.carve_out_ndcg`: stage 1's exact NDCG@10 of the held-out
interactions at the item-item weight and recency the run fits on them). No test row is
read. The seeds are validation seeds that no reported benchmark run uses (100, 101, ...);
on the synthetic cases they also draw the data.

The table gives each case's score per value, the value each case prefers and each value's
score relative to the case's best. The rule the choices in `docs/quality.md` ("Choices and
the evidence they rest on") follow: a value becomes the default when it has the best mean of
those ratios and trails no case's best by more than that case's spread over seeds.

Writes `benchmarks/results/default_selection_<knob>.{json,md}` (`_<tag>` appended with `--tag`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from result_files import run_line, run_meta, write_results
from served_quality import runs_of

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import tensorflow as tf

from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import (
    fit_split_state,
    load_experiment_data,
    split_experiment_data,
    validation_carve_out,
)
from tfrs_mtl.experiments.experiment_run import train_model, with_data_shape
from tfrs_mtl.experiments.tuning import carve_out_ndcg

RESULTS = Path(__file__).parent / "results"
CASES = ("movielens-100k", "synthetic-ecommerce", "synthetic-2k", "retailrocket", "synthetic-10k")
SEEDS = (100, 101)


def case_config(case: str, seed: int) -> ExperimentConfig:
    """The case's default config at `seed` (`served_quality.runs_of`), without baselines."""
    [(_, config)] = runs_of(case, [seed])
    return config.replace(baselines=())


def score_values(
    case: str, seed: int, knob: str, values: list[Any], log: Any
) -> dict[str, dict[str, float]]:
    """`{value: {"ndcg@10": ..., "train_seconds": ...}}` on the case's carve-out at `seed`."""
    config = case_config(case, seed)
    data = load_experiment_data(config)
    train_positions, _ = split_experiment_data(data, config.split)
    shaped = with_data_shape(config, data, train_positions, log)
    fit_positions, held_out = validation_carve_out(
        data, train_positions, config.split, config.validation_fraction or 0.2, config.seed
    )
    fit_split_state(data, fit_positions)
    found: dict[str, dict[str, float]] = {}
    for value in values:
        valued = shaped.replace(**{knob: value})
        trained = train_model(valued, data, fit_positions, progress=False)
        ndcg = carve_out_ndcg(trained.model, valued, data, fit_positions, held_out)
        found[str(value)] = {"ndcg@10": ndcg, "train_seconds": trained.seconds}
        log(f"{case} seed {seed} {knob}={value}: NDCG@10 {ndcg:.4f} ({trained.seconds:.0f} s)")
        del trained
        tf.keras.backend.clear_session()
    return found


def markdown(results: dict[str, Any]) -> str:
    """The table: per case, the mean (± std over seeds) carve-out NDCG@10 of every value."""
    meta, knob, values = results["meta"], results["knob"], [str(v) for v in results["values"]]
    lines = [
        f"# `{knob}` on validation carve-outs, by data shape",
        "",
        f"{run_line(meta)}. Per case and seed: the library's defaults with `{knob}` at each "
        "value, trained on 80% of the training rows and scored on the other 20% (stage 1's "
        "exact NDCG@10 at the item-item weight and recency the run fits there, what "
        "`tfrs-mtl tune` maximises); no test row is read. Mean ± std over seeds; in "
        "parentheses the ratio to the case's best value.",
        "",
        "| case | " + " | ".join(f"{knob}={v}" for v in values) + " | best |",
        "|---|" + "---|" * (len(values) + 1),
    ]
    for case, by_seed in results["cases"].items():
        means = {}
        cells = []
        for value in values:
            scores = np.array([seed_scores[value]["ndcg@10"] for seed_scores in by_seed.values()])
            means[value] = float(scores.mean())
            spread = f" ± {scores.std():.4f}" if len(scores) > 1 else ""
            cells.append(f"{scores.mean():.4f}{spread}")
        best = max(means, key=lambda v: means[v])
        cells = [
            f"{cell} ({means[v] / means[best]:.3f})" for cell, v in zip(cells, values, strict=True)
        ]
        lines.append(f"| {case} | " + " | ".join(cells) + f" | {best} |")
    return "\n".join(lines) + "\n"


def _number(text: str) -> int | float:
    """An integer where the text is one (`embedding_dim`), else a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--knob", required=True, help="an ExperimentConfig field")
    parser.add_argument("--values", nargs="+", type=_number, required=True)
    parser.add_argument("--cases", nargs="+", default=list(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--tag", default="", help="results file suffix")
    args = parser.parse_args()
    if args.knob not in ExperimentConfig.__dataclass_fields__:
        parser.error(f"--knob {args.knob!r} is not an ExperimentConfig field")
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.0f} s] {message}", flush=True)

    cases = {
        case: {
            f"seed {seed}": score_values(case, seed, args.knob, args.values, log)
            for seed in args.seeds
        }
        for case in args.cases
    }
    results = {
        "meta": run_meta("benchmarks/default_selection.py", started),
        "knob": args.knob,
        "values": args.values,
        "cases": cases,
    }
    table = markdown(results)
    suffix = f"_{args.tag}" if args.tag else ""
    write_results(RESULTS / f"default_selection_{args.knob}{suffix}", results, table)
    print(table)


if __name__ == "__main__":
    main()
