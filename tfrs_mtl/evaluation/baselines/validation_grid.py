"""`grid_on_validation`: a baseline's hyper-parameter chosen on a carve-out of training.

A seeded share of the training pairs is held out; the baseline is fitted on the rest for
every value of the grid (or, given a start, for the values a climb along the ordered grid
visits) and scored on the held-out pairs by the full ranking (training items masked); the
value with the best score wins. The caller refits on every pair.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from tfrs_mtl.evaluation.full_ranking import evaluate_full_ranking
from tfrs_mtl.evaluation.interaction_sets import UserItemSets
from tfrs_mtl.evaluation.score_source import ScoreFn

Value = TypeVar("Value")


def grid_on_validation(
    train_pairs: tuple[np.ndarray, np.ndarray],
    grid: Sequence[Value],
    score_fn_for: Callable[[UserItemSets], Callable[[Value], ScoreFn]],
    *,
    num_users: int,
    num_items: int,
    validation_fraction: float = 0.1,
    metric: str = "ndcg@10",
    seed: int = 0,
    start: Value | None = None,
    on_score: Callable[[Value, float, float], None] | None = None,
) -> tuple[Value, dict[Value, float]]:
    """`(best value, {value: validation metric})`, the scores of the values tried in grid
    order.

    Args:
        train_pairs: `(user_indices, item_indices)`.
        grid: the candidate values.
        score_fn_for: given the fitting pairs' sets, a function from a value to the fitted
            baseline's score function (so that work shared by the values is done once).
        num_users: number of users.
        num_items: catalogue size.
        validation_fraction: share of training pairs held out.
        metric: full-ranking metric to maximise, `<name>@<K>`.
        seed: seed of the held-out draw.
        start: None scores every value of the grid. A value of the grid: a climb along the
            grid, which must be ordered, from that value: both neighbours of the current
            value are scored and the climb moves to the better one while it scores higher
            (ties stay). Where the metric is unimodal along the grid it ends on the grid's
            best value, scoring 3 values plus one per step instead of all of them.
        on_score: called as each value is scored, with the value, its validation metric
            and the seconds its fit and scoring took (a caller's progress line).
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    if not grid:
        raise ValueError("the grid is empty")
    cutoff = int(metric.rsplit("@", 1)[1])
    users = np.asarray(train_pairs[0], dtype=np.int64)
    items = np.asarray(train_pairs[1], dtype=np.int64)
    held_out = np.random.default_rng(seed).random(users.size) < validation_fraction
    fit_sets = UserItemSets.from_pairs(
        users[~held_out], items[~held_out], num_users=num_users, num_items=num_items
    )
    fitted = score_fn_for(fit_sets)
    by_index: dict[int, float] = {}

    def score(index: int) -> float:
        if index not in by_index:
            began = time.perf_counter()
            result = evaluate_full_ranking(
                fitted(grid[index]),
                fit_sets,
                (users[held_out], items[held_out]),
                num_users=num_users,
                num_items=num_items,
                ks=(cutoff,),
            )
            by_index[index] = result.metrics[metric]
            if on_score is not None:
                on_score(grid[index], by_index[index], time.perf_counter() - began)
        return by_index[index]

    if start is None:
        best = max(range(len(grid)), key=score)
    else:
        if start not in grid:
            raise ValueError(f"start={start!r} is not a value of the grid {list(grid)}")
        best = list(grid).index(start)
        score(best)
        while True:
            neighbours = [index for index in (best - 1, best + 1) if 0 <= index < len(grid)]
            better = max(neighbours, key=score, default=best)
            if score(better) <= score(best):
                break
            best = better
    return grid[best], {grid[index]: by_index[index] for index in sorted(by_index)}
