"""What a default `tfrs-mtl train` costs as the catalogue grows: wall, phases, peak memory.

    .venv/bin/python benchmarks/run_cost.py [--sizes synthetic-2k synthetic-10k] [--seed 0]

Each case is the synthetic shop at one of `served_quality.SYNTHETIC_SIZES` (users, items,
views: 2,000 items with 40,000 views, 10,000 with 100,000, 50,000 with 250,000), trained by
the command a user runs, `tfrs-mtl train --config <case>.yaml --seed S --out <folder>`, in a
child process of its own: the library's defaults throughout (the served blend fitted on a
carve-out of the training rows, the default baselines for the catalogue's size).

Measured per case: the child's wall time (process start to exit, TensorFlow's import
included), its peak resident memory (`ru_maxrss` of that child alone, from `os.wait4`), the
phases the run reports in its metrics.json (`seconds/<phase>`), the served model's training
(`train_seconds`) and the blend fit's carve-out model's (`blend_fit/train_seconds`). Reported:
wall over the served model's training, wall over both models' training, and the served
NDCG@10 beside the best baseline's of the same run, so that a cheaper run is seen not to be a
worse one.

Writes `benchmarks/results/run_cost.{json,md}` (or `_<tag>`). Wall times are of one process
on the machine named in the results; run nothing else beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from result_files import run_line, run_meta, write_results
from served_quality import SYNTHETIC_SIZES

RESULTS = Path(__file__).parent / "results"
CASES = ("synthetic-2k", "synthetic-10k", "synthetic-50k")
PHASES = ("load", "blend_fit", "train", "index", "evaluate", "baselines", "export")
BASELINE_PREFIX = "baselines/"


def run_case(case: str, size: tuple[int, int, int], seed: int, folder: Path) -> dict[str, Any]:
    """Trains the synthetic shop of `size` (users, items, views) with `tfrs-mtl train` in a
    child process writing into `folder`; the row of `measured`."""
    users, items, views = size
    config = folder / f"{case}.yaml"
    config.write_text(
        "dataset: synthetic-ecommerce\n"
        f"synthetic_num_users: {users}\nsynthetic_num_items: {items}\n"
        f"synthetic_num_events: {views}\n",
        encoding="utf-8",
    )
    out = folder / case
    command = [
        str(Path(sys.executable).with_name("tfrs-mtl")),
        "train",
        "--config",
        str(config),
        "--seed",
        str(seed),
        "--out",
        str(out),
    ]
    log = folder / f"{case}.log"
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        tail = log.read_text(encoding="utf-8").splitlines()[-20:]
        raise RuntimeError(f"{' '.join(command)} exited {child.returncode}:\n" + "\n".join(tail))
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    return measured(case, (users, items, views), wall, usage, metrics)


def measured(
    case: str,
    size: tuple[int, int, int],
    wall: float,
    usage: resource.struct_rusage,
    metrics: dict[str, float],
) -> dict[str, Any]:
    """One case's row: sizes, wall, peak memory, phases, training times, their ratios and the
    served NDCG@10 against the best baseline's."""
    served_training = metrics["train_seconds"]
    blend_training = metrics.get("blend_fit/train_seconds", 0.0)
    baselines = {
        key[len(BASELINE_PREFIX) :].split("/")[0]: value
        for key, value in metrics.items()
        if key.startswith(BASELINE_PREFIX) and key.endswith("/retrieval/ndcg@10")
    }
    best = max(baselines, key=baselines.__getitem__) if baselines else None
    return {
        "case": case,
        "users": size[0],
        "items": size[1],
        "views": size[2],
        "wall_seconds": wall,
        # Linux reports ru_maxrss in KiB.
        "peak_gb": usage.ru_maxrss * 1024 / 1e9,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "phases": {phase: metrics.get(f"seconds/{phase}") for phase in PHASES},
        "served_training_seconds": served_training,
        "blend_fit_training_seconds": blend_training,
        "wall_over_served_training": wall / served_training,
        "wall_over_both_trainings": wall / (served_training + blend_training),
        "served_ndcg@10": metrics.get("served/ndcg@10"),
        "baselines_ndcg@10": baselines,
        "best_baseline": best,
    }


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# What a default `tfrs-mtl train` costs, by catalogue size",
        "",
        f"{run_line(meta)}. Each case is one child "
        "process running `tfrs-mtl train` with the library's defaults on the synthetic shop; "
        "wall is the child's, process start to exit; peak is its maximum resident set.",
        "",
        "| case | users / items / views | wall s | peak GB | served model's training s | "
        "blend fit's training s | wall / served training | wall / both trainings | "
        "served NDCG@10 | best baseline NDCG@10 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results["cases"]:
        best = row["best_baseline"]
        baseline = f"{best} {row['baselines_ndcg@10'][best]:.4f}" if best else "-"
        served = row["served_ndcg@10"]
        lines.append(
            f"| {row['case']} | {row['users']:,} / {row['items']:,} / {row['views']:,} | "
            f"{row['wall_seconds']:.1f} | {row['peak_gb']:.2f} | "
            f"{row['served_training_seconds']:.1f} | {row['blend_fit_training_seconds']:.1f} | "
            f"{row['wall_over_served_training']:.2f}x | {row['wall_over_both_trainings']:.2f}x "
            f"| {'-' if served is None else f'{served:.4f}'} | {baseline} |"
        )
    lines += [
        "",
        "Phases (wall s, as the run reports them in metrics.json; the rest of the wall is "
        "the process starting and importing TensorFlow):",
        "",
        "| case | " + " | ".join(PHASES) + " | rest |",
        "|---|" + "---:|" * (len(PHASES) + 1),
    ]
    for row in results["cases"]:
        phases = row["phases"]
        rest = row["wall_seconds"] - sum(v for v in phases.values() if v is not None)
        cells = ["-" if phases[p] is None else f"{phases[p]:.1f}" for p in PHASES]
        lines.append(f"| {row['case']} | " + " | ".join(cells) + f" | {rest:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=list(CASES[:2]), choices=CASES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="", help="results file suffix")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="run_cost_") as folder:
        for case in args.sizes:
            rows.append(run_case(case, SYNTHETIC_SIZES[case], args.seed, Path(folder)))
            print(json.dumps(rows[-1]), flush=True)
    results = {
        "meta": run_meta("benchmarks/run_cost.py", started, seed=args.seed),
        "cases": rows,
    }
    table = markdown(results)
    write_results(RESULTS / ("run_cost" + (f"_{args.tag}" if args.tag else "")), results, table)
    print(table)


if __name__ == "__main__":
    main()
