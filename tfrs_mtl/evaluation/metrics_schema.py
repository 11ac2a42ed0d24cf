"""The flat `metrics.json` schema: `<task>/<metric>` keys, baselines under `baselines/<name>/`.

Nested results `{task: {metric: value}}` (tasks such as `retrieval`, `rating`, `click`,
`genres`, `index`) flatten to keys like `retrieval/recall@10`, `retrieval/top100_hit`,
`rating/rmse`, `index/recall@10_vs_exact`; the training time is the top-level
`train_seconds`; a baseline's metrics become `baselines/<name>/<task>/<metric>`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

NestedMetrics = Mapping[str, Mapping[str, float]]
"""`{task_name: {metric_name: value}}`."""


def _check_name(kind: str, name: str) -> str:
    if not name or "/" in name:
        raise ValueError(f"{kind} name {name!r} must be non-empty and contain no '/'")
    return name


def _check_value(key: str, value: object) -> float:
    # numbers.Real also admits numpy scalars such as np.float32.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{key}: expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{key}: expected a finite number, got {number}")
    return number


def flatten_task_metrics(metrics: NestedMetrics, prefix: str = "") -> dict[str, float]:
    """`{task: {metric: value}}` -> `{prefix + "task/metric": value}`."""
    flat: dict[str, float] = {}
    for task, task_metrics in metrics.items():
        _check_name("task", task)
        for metric, value in task_metrics.items():
            key = f"{prefix}{task}/{_check_name('metric', metric)}"
            flat[key] = _check_value(key, value)
    return flat


def flatten_metrics(
    metrics: NestedMetrics,
    *,
    baselines: Mapping[str, NestedMetrics] | None = None,
    train_seconds: float | None = None,
) -> dict[str, float]:
    """The flat `metrics.json` dict, keys sorted.

    Args:
        metrics: the model's `{task: {metric: value}}`.
        baselines: `{baseline_name: {task: {metric: value}}}`.
        train_seconds: wall time of training, stored as `train_seconds`.

    Example:
        >>> flatten_metrics({"rating": {"rmse": 0.93}}, baselines={"popularity": {"rating":
        ...     {"rmse": 1.13}}}, train_seconds=12.5)
        {'baselines/popularity/rating/rmse': 1.13, 'rating/rmse': 0.93, 'train_seconds': 12.5}
    """
    flat = flatten_task_metrics(metrics)
    for name, baseline_metrics in (baselines or {}).items():
        prefix = f"baselines/{_check_name('baseline', name)}/"
        flat.update(flatten_task_metrics(baseline_metrics, prefix))
    if train_seconds is not None:
        flat["train_seconds"] = _check_value("train_seconds", train_seconds)
    return dict(sorted(flat.items()))
