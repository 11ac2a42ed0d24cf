"""Compact text tables of run metrics for the terminal."""

from __future__ import annotations

from collections.abc import Mapping

HEADLINE_METRICS = (
    "retrieval/recall@10",
    "retrieval/ndcg@10",
    "retrieval/top100_hit",
    "index/recall@10_vs_exact",
    "rating/rmse",
    "rating/mae",
)
BASELINE_PREFIX = "baselines/"


def _rows(metrics: Mapping[str, float]) -> list[str]:
    model_keys = [k for k in metrics if not k.startswith(BASELINE_PREFIX) and "/" in k]
    others = sorted(
        k
        for k in model_keys
        if k not in HEADLINE_METRICS
        and not k.startswith(("retrieval/", "index/"))
        and not k.endswith("macro_f1")
    )
    return [k for k in HEADLINE_METRICS if k in metrics] + others


def comparison_table(metrics: Mapping[str, float]) -> str:
    """The headline metrics of the model beside every baseline (`n/a` where absent)."""
    baselines = sorted(
        {
            k[len(BASELINE_PREFIX) :].split("/", 1)[0]
            for k in metrics
            if k.startswith(BASELINE_PREFIX)
        }
    )
    columns = ["model", *baselines]
    rows = _rows(metrics)
    width = max([len("metric"), *(len(row) for row in rows)])
    cell = max(10, *(len(name) for name in columns))
    lines = ["metric".ljust(width) + "".join(name.rjust(cell + 2) for name in columns)]
    for row in rows:
        cells = [metrics.get(row)] + [
            metrics.get(f"{BASELINE_PREFIX}{name}/{row}") for name in baselines
        ]
        text = ["n/a" if value is None else f"{value:.4f}" for value in cells]
        lines.append(row.ljust(width) + "".join(value.rjust(cell + 2) for value in text))
    if "train_seconds" in metrics:
        lines.append(f"(model trained in {metrics['train_seconds']:.1f} s)")
    return "\n".join(lines)


def summary_table(summary: Mapping[str, tuple[float, float]], num_folds: int) -> str:
    """`metric  mean ± std` per metric, model first then baselines."""
    names = sorted(summary, key=lambda name: (name.startswith(BASELINE_PREFIX), name))
    width = max(len(name) for name in names) if names else 6
    lines = [f"{'metric'.ljust(width)}  mean ± std over {num_folds} folds"]
    for name in names:
        mean, std = summary[name]
        lines.append(f"{name.ljust(width)}  {mean:.4f} ± {std:.4f}")
    return "\n".join(lines)
