"""Benchmark: the synthetic e-commerce generator at 10 million views over 1 million items.

One command, fixed seed:

    .venv/bin/python benchmarks/synthetic.py [--num-events 10000000] [--num-items 1000000]

Measures, in one process:

1. `generate_synthetic_ecommerce` (views + the funnel events on top, as a canonical
   `EventLog` with string ids, sorted by time). Target: well under a minute.
2. Baseline: the same number of rows with uniformly random users, items and behaviours put
   into the same canonical frame; the floor any generator pays for building the frame, so
   the ratio says what the planted structure costs.
3. `aggregate_interactions` on the generated log (one row per user-item pair).

Wall and CPU seconds are both reported: the machine may be shared, and CPU time is the
steadier of the two. Writes `benchmarks/results/synthetic.json` and `.md`, prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tfrs_mtl  # noqa: F401  (sets the Keras 2 switch before anything else)

# isort: split
import numpy as np

from tfrs_mtl.data.aggregate import aggregate_interactions
from tfrs_mtl.data.events import make_events_frame
from tfrs_mtl.data.synthetic import generate_synthetic_ecommerce

RESULTS = Path(__file__).resolve().parent / "results"


def _timed(function: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return {
        "wall_seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
    }, result


def _uniform_baseline(num_rows: int, num_users: int, num_items: int, seed: int) -> Any:
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    return make_events_frame(
        pa.array(rng.integers(0, num_users, num_rows)).cast(pa.string()),
        pa.array(rng.integers(0, num_items, num_rows)).cast(pa.string()),
        rng.integers(0, 4, num_rows),
        timestamp=np.sort(rng.integers(1_511_568_000, 1_512_345_600, num_rows)),
    )


def run(num_users: int, num_items: int, num_events: int, seed: int) -> dict[str, Any]:
    load_before = os.getloadavg()
    generated, data = _timed(
        lambda: generate_synthetic_ecommerce(
            num_users=num_users, num_items=num_items, num_events=num_events, seed=seed
        )
    )
    events = data.log.events
    num_rows = len(events)
    counts = events["behavior"].value_counts().to_dict()
    baseline, _ = _timed(lambda: _uniform_baseline(num_rows, num_users, num_items, seed))
    aggregated, pairs = _timed(lambda: aggregate_interactions(data.log))
    rows = {
        "generate_synthetic_ecommerce": generated,
        "uniform baseline (same frame)": baseline,
        "aggregate_interactions": aggregated,
    }
    for row in rows.values():
        row["events_per_second"] = num_rows / row["wall_seconds"]
    return {
        "config": {
            "num_users": num_users,
            "num_items": num_items,
            "num_views": num_events,
            "seed": seed,
        },
        "num_events": num_rows,
        "events_per_behavior": {str(k): int(v) for k, v in counts.items()},
        "num_items_viewed": int(events["item_id"].nunique()),
        "num_pairs": len(pairs),
        "rows": rows,
        "generate_vs_baseline_wall_ratio": generated["wall_seconds"] / baseline["wall_seconds"],
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
    }


def to_markdown(result: dict[str, Any]) -> str:
    config = result["config"]
    lines = [
        f"# Synthetic e-commerce generator: {config['num_views']:,} views over "
        f"{config['num_items']:,} items, {config['num_users']:,} users (seed {config['seed']})",
        "",
        f"{result['num_events']:,} events in all: "
        + ", ".join(f"{k} {v:,}" for k, v in result["events_per_behavior"].items())
        + f"; {result['num_items_viewed']:,} distinct items viewed; "
        f"{result['num_pairs']:,} user-item pairs.",
        "",
        "| step | wall s | CPU s | events/s (wall) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, row in result["rows"].items():
        lines.append(
            f"| {name} | {row['wall_seconds']:.1f} | {row['cpu_seconds']:.1f} | "
            f"{row['events_per_second']:,.0f} |"
        )
    machine = result["machine"]
    lines += [
        "",
        f"Generator / baseline (wall): {result['generate_vs_baseline_wall_ratio']:.1f}x. "
        f"Peak RSS {result['peak_rss_gb']:.1f} GB. {machine['cpus']} CPUs, load average "
        f"before the run {machine['load_average_before']} (shared machine).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-users", type=int, default=100_000)
    parser.add_argument("--num-items", type=int, default=1_000_000)
    parser.add_argument("--num-events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS / "synthetic")
    args = parser.parse_args()
    result = run(args.num_users, args.num_items, args.num_events, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    markdown = to_markdown(result)
    args.output.with_suffix(".md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
