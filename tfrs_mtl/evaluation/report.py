"""`write_report`: `report.md`, `metrics.json` and PNG plots of one training run.

Plots are drawn on `matplotlib.figure.Figure` objects saved with the Agg renderer, so writing a
report never touches pyplot's global backend or state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from tfrs_mtl.evaluation.metrics_schema import NestedMetrics, flatten_metrics

History = Mapping[str, Sequence[float]]
"""A Keras `History.history` dict: `{"rating/loss": [...], "val_rating/loss": [...], ...}`."""

_MISSING = "n/a"


def _loss_series(
    history: History, monitored: str = "validation"
) -> dict[str, dict[str, Sequence[float]]]:
    """`{task: {"train"|monitored: values}}` from keys `[val_]<task>/loss` or `[val_]loss`."""
    series: dict[str, dict[str, Sequence[float]]] = {}
    for key, values in history.items():
        split = monitored if key.startswith("val_") else "train"
        name = key.removeprefix("val_")
        if name == "loss":
            task = "total"
        elif name.endswith("/loss"):
            task = name.removesuffix("/loss")
        else:
            continue
        series.setdefault(task, {})[split] = values
    return dict(sorted(series.items()))


def _weight_series(history: History) -> dict[str, Sequence[float]]:
    """`{task: values}` from keys `<task>/weight` (training side only)."""
    return {
        key.removesuffix("/weight"): values
        for key, values in sorted(history.items())
        if key.endswith("/weight") and not key.startswith("val_")
    }


def plot_losses(history: History, path: Path, monitored: str = "validation") -> bool:
    """One panel per task with the training loss by epoch and the `val_*` one, labelled
    `monitored` (the rows Keras evaluated after each epoch); False if none."""
    series = _loss_series(history, monitored)
    if not series:
        return False
    figure = Figure(figsize=(4.0 * len(series), 3.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(series), squeeze=False)[0])
    for axis, (task, splits) in zip(axes, series.items(), strict=True):
        for split, values in sorted(splits.items()):
            axis.plot(np.arange(1, len(values) + 1), values, marker="o", label=split)
        axis.set_title(f"{task} loss")
        axis.set_xlabel("epoch")
        axis.legend(fontsize="small")
    figure.savefig(path, dpi=100)
    return True


def plot_task_weights(history: History, path: Path) -> bool:
    """Task-weight trajectories by epoch on one panel; False if the history has none."""
    series = _weight_series(history)
    if not series:
        return False
    figure = Figure(figsize=(5.0, 3.2), layout="constrained")
    axis = figure.subplots()
    for task, values in series.items():
        axis.plot(np.arange(1, len(values) + 1), values, marker="o", label=task)
    axis.set_title("task weights")
    axis.set_xlabel("epoch")
    axis.legend()
    figure.savefig(path, dpi=100)
    return True


def plot_recall_curves(recall_curves: Mapping[str, np.ndarray], path: Path) -> bool:
    """Recall@K for K = 1..len(curve), one line per model or baseline; False if empty."""
    if not recall_curves:
        return False
    figure = Figure(figsize=(5.5, 3.6), layout="constrained")
    axis = figure.subplots()
    for name, curve in recall_curves.items():
        values = np.asarray(curve, dtype=np.float64)
        axis.plot(np.arange(1, values.size + 1), values, label=name)
    axis.set_title("Recall@K (training items masked)")
    axis.set_xlabel("K")
    axis.set_ylabel("recall")
    axis.legend()
    figure.savefig(path, dpi=100)
    return True


def metrics_table(metrics: NestedMetrics, baselines: Mapping[str, NestedMetrics]) -> str:
    """Markdown table: one row per `task/metric`, the model beside every baseline.

    The served lists (`served/*`, what `recommend` returns) come first, then stage 1 alone
    (`retrieval/*`) and the rest. A baseline serves its own ranking: its `served/*` cells
    are its `retrieval/*` values.
    """
    columns = {"model": metrics, **baselines}
    order = {"served": 0, "retrieval": 1}
    rows = sorted(
        {
            (task, metric)
            for nested in columns.values()
            for task, m in nested.items()
            for metric in m
        },
        key=lambda row: (order.get(row[0], 2), row),
    )
    lines = [
        "| metric | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for task, metric in rows:
        cells = []
        for name, nested in columns.items():
            value = nested.get(task, {}).get(metric)
            if value is None and task == "served" and name != "model":
                value = nested.get("retrieval", {}).get(metric)
            cells.append(_MISSING if value is None else f"{value:.4f}")
        lines.append(f"| {task}/{metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(
    out_dir: str | Path,
    metrics: NestedMetrics,
    history: History | None = None,
    baselines: Mapping[str, NestedMetrics] | None = None,
    recall_curves: Mapping[str, np.ndarray] | None = None,
    *,
    train_seconds: float | None = None,
    title: str = "tfrs_mtl evaluation report",
    monitored: str = "validation",
) -> dict[str, Path]:
    """Writes `report.md`, `metrics.json` and the plots that the inputs allow.

    Args:
        out_dir: folder to write into (created if missing).
        metrics: the model's `{task: {metric: value}}`.
        history: Keras `History.history` (`rating/loss`, `val_rating/loss`, `rating/weight`).
        baselines: `{baseline_name: {task: {metric: value}}}`, shown beside the model.
        recall_curves: `{name: Recall@K for K = 1..100}` for the model and the baselines.
        train_seconds: training wall time, recorded in `metrics.json`.
        title: heading of `report.md`.
        monitored: what the history's `val_*` losses were computed on, as the loss plot
            labels them (a run's report: `run_report.VALIDATION_CURVES`).

    Returns:
        `{"report", "metrics", "loss_curves", "task_weights", "recall_at_k"}` -> written path
        (plots that had no data are absent).
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    baselines = baselines or {}
    written: dict[str, Path] = {}
    flat = flatten_metrics(metrics, baselines=baselines, train_seconds=train_seconds)
    written["metrics"] = folder / "metrics.json"
    written["metrics"].write_text(json.dumps(flat, indent=2) + "\n", encoding="utf-8")

    plots = [
        (
            "loss_curves",
            "Losses",
            history is not None and plot_losses(history, folder / "loss_curves.png", monitored),
        ),
        (
            "task_weights",
            "Task weights",
            history is not None and plot_task_weights(history, folder / "task_weights.png"),
        ),
        (
            "recall_at_k",
            "Recall@K",
            recall_curves is not None
            and plot_recall_curves(recall_curves, folder / "recall_at_k.png"),
        ),
    ]
    sections = [f"# {title}", "", "## Metrics", "", metrics_table(metrics, baselines), ""]
    if train_seconds is not None:
        sections += [f"Training took {train_seconds:.1f} s.", ""]
    for name, heading, drawn in plots:
        if drawn:
            written[name] = folder / f"{name}.png"
            sections += [f"## {heading}", "", f"![{heading}]({name}.png)", ""]
    written["report"] = folder / "report.md"
    written["report"].write_text("\n".join(sections), encoding="utf-8")
    return written
