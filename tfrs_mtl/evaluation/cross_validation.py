"""`cross_validate`: run any train-and-evaluate function over folds and summarise each metric."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

import numpy as np

Fold = TypeVar("Fold")


def cross_validate(
    train_and_evaluate_fn: Callable[[Fold], Mapping[str, float]],
    folds: Iterable[Fold],
    *,
    ddof: int = 0,
) -> dict[str, tuple[float, float]]:
    """Calls `train_and_evaluate_fn(fold)` for every fold; returns metric -> (mean, std).

    Args:
        train_and_evaluate_fn: trains on one fold's training part and returns its metrics
            on that fold's held-out part (e.g. `{"rating/rmse": 0.93}`).
        folds: the folds, in any form the function accepts (e.g. `(train, test)` frames).
        ddof: delta degrees of freedom of the standard deviation (0: population, as
            `numpy.std`; 1: sample).

    Returns:
        For every metric, the mean and standard deviation across folds.

    Raises:
        ValueError: when there are no folds or folds disagree on metric names.

    Example:
        >>> cross_validate(lambda fold: {"rmse": fold}, [1.0, 3.0])
        {'rmse': (2.0, 1.0)}
    """
    per_fold = [dict(train_and_evaluate_fn(fold)) for fold in folds]
    if not per_fold:
        raise ValueError("cross_validate needs at least one fold")
    names = set(per_fold[0])
    for index, metrics in enumerate(per_fold[1:], start=1):
        if set(metrics) != names:
            raise ValueError(
                f"fold {index} returned metrics {sorted(metrics)}, fold 0 returned {sorted(names)}"
            )
    if ddof >= len(per_fold):
        raise ValueError(f"ddof={ddof} needs more than {len(per_fold)} folds")
    summary = {}
    for name in sorted(names):
        values = np.array([metrics[name] for metrics in per_fold], dtype=np.float64)
        summary[name] = (float(values.mean()), float(values.std(ddof=ddof)))
    return summary
