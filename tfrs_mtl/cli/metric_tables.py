"""Compact text tables of run metrics for the terminal."""

from __future__ import annotations

from collections.abc import Mapping

from tfrs_mtl._metric_names import LIST_METRIC_NAMES, SEEN_ITEMS_PREFIX

#: What `recommend` serves first (`served/*`), then stage 1 alone (`retrieval/*`).
LIST_METRICS = LIST_METRIC_NAMES
HEADLINE_METRICS = (
    *(f"served/{name}" for name in LIST_METRICS),
    *(f"retrieval/{name}" for name in LIST_METRICS),
    "retrieval/top100_hit",
    "index/recall@10_vs_exact",
    "rating/rmse",
    "rating/mae",
)
BASELINE_PREFIX = "baselines/"
SERVED_PREFIX = "served/"
#: A run's phases in the order they run (`seconds/<phase>` in metrics.json).
PHASE_ORDER = {
    name: position
    for position, name in enumerate(
        ("load", "blend_fit", "train", "index", "evaluate", "baselines", "export")
    )
}


def _rows(metrics: Mapping[str, float]) -> list[str]:
    model_keys = [k for k in metrics if not k.startswith(BASELINE_PREFIX) and "/" in k]
    others = sorted(
        k
        for k in model_keys
        if k not in HEADLINE_METRICS
        and not k.startswith(("retrieval/", "index/", SERVED_PREFIX, "blend_fit/", "seconds/"))
        and not k.endswith("macro_f1")
        # A lookup's score (kept in metrics.json) is not shown beside the predictions'.
        and f"/{SEEN_ITEMS_PREFIX}" not in k
    )
    return [k for k in HEADLINE_METRICS if k in metrics] + others


def baseline_value(metrics: Mapping[str, float], baseline: str, row: str) -> float | None:
    """A baseline's value of `row`; a baseline serves its own ranking, so its `served/*`
    value is its `retrieval/*` one."""
    value = metrics.get(f"{BASELINE_PREFIX}{baseline}/{row}")
    if value is None and row.startswith(SERVED_PREFIX):
        value = metrics.get(f"{BASELINE_PREFIX}{baseline}/retrieval/{row[len(SERVED_PREFIX) :]}")
    return value


def comparison_table(metrics: Mapping[str, float]) -> str:
    """The headline metrics of the model beside every baseline (`n/a` where absent): what
    `recommend` serves first, then stage 1, the index and the other tasks."""
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
        cells = [metrics.get(row)] + [baseline_value(metrics, name, row) for name in baselines]
        text = ["n/a" if value is None else f"{value:.4f}" for value in cells]
        lines.append(row.ljust(width) + "".join(value.rjust(cell + 2) for value in text))
    if "train_seconds" in metrics:
        lines.append(f"(model trained in {metrics['train_seconds']:.1f} s)")
    timed = {key.removeprefix("seconds/") for key in metrics if key.startswith("seconds/")}
    phases = [
        f"{name} {metrics[f'seconds/{name}']:.1f} s"
        for name in sorted(timed, key=lambda name: (PHASE_ORDER.get(name, len(PHASE_ORDER)), name))
    ]
    if phases:
        lines.append(f"(wall time by phase: {', '.join(phases)})")
    return "\n".join(lines)


def summary_table(summary: Mapping[str, tuple[float, float]], num_folds: int) -> str:
    """`metric  mean ± std` per metric: the model's (served lists first), then baselines."""
    names = sorted(
        summary,
        key=lambda name: (
            name.startswith(BASELINE_PREFIX),
            not name.startswith(SERVED_PREFIX),
            name,
        ),
    )
    width = max(len(name) for name in names) if names else 6
    lines = [f"{'metric'.ljust(width)}  mean ± std over {num_folds} folds"]
    for name in names:
        mean, std = summary[name]
        lines.append(f"{name.ljust(width)}  {mean:.4f} ± {std:.4f}")
    return "\n".join(lines)
