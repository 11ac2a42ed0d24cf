"""Attribute completion: predict the attributes of items whose labels were held out, from
the labels of the other items, and score such predictions.

Every attribute is a label matrix with one row per item: 0/1 columns per class for
multi-label attributes (a movie's genres), a one-hot row for multi-class ones (a category,
a brand), one column of numbers for regression (a price). Two predictors read only the
rows of the items whose labels are known:

* `label_frequencies`: every held-out item gets the known items' mean row (each class's
  share of the known items; the mean price).
* `propagate_labels` over `co_interaction_neighbours`: item-kNN label propagation. A held-out
  item's neighbours are the `num_neighbours` known items that share the most users with it
  in the training interactions; its row is the mean of theirs weighted by the number of
  shared users (an item with no such neighbour gets the label frequencies).
* `propagate_labels` over `embedding_neighbours`: the same vote in a model's item space. A
  held-out item's neighbours are the `num_neighbours` known items whose embeddings are most
  cosine-similar to its own, weighted `exp((cosine - best cosine) / temperature)`.

`class_means` is a reference that reads more than any predictor gets: a number (a price)
predicted as the mean of the known items of the item's own class (its category), which
the holdout hides too.

The metrics (`multilabel_completion_metrics`, `multiclass_completion_metrics`,
`regression_completion_metrics`) score one prediction per held-out item. numpy only.

Example:
    >>> neighbours, weights = co_interaction_neighbours(
    ...     users, items, num_items=5, query_items=[4], known=known)
    >>> scores = propagate_labels(neighbours, weights, labels, label_frequencies(labels[known]))
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np

from tfrs_mtl.evaluation.classification_metrics import multilabel_auc, multilabel_f1

#: Neighbours read per held-out item by the item-kNN propagation.
NUM_NEIGHBOURS = 50
#: The multi-class metric `top<k>_accuracy`.
TOP_K = 5
#: Temperature of `embedding_neighbours`' weights, on the cosine scale: a neighbour 0.05
#: less similar than the closest counts e^-1 as much.
EMBEDDING_TEMPERATURE = 0.05
#: Query items scored per block by `embedding_neighbours` (bounds its memory).
_QUERY_BLOCK = 512


def label_frequencies(known_labels: np.ndarray) -> np.ndarray:
    """`[num_columns]` the mean label row of the known items `[num_known, num_columns]`:
    each class's share (multi-label, multi-class) or the mean value (regression).

    Raises:
        ValueError: no known item.
    """
    rows = np.asarray(known_labels, dtype=np.float64)
    if rows.ndim != 2 or not len(rows):
        raise ValueError(f"expected [num_known, num_columns] labels, got shape {rows.shape}")
    return rows.mean(axis=0)


def most_frequent_classes(known_labels: np.ndarray) -> np.ndarray:
    """`[num_classes]` bool: the label-frequency prediction of a multi-label attribute as a
    set, the `m` most frequent classes where `m` is the known items' mean number of classes
    (rounded; at least 1). Thresholding the frequencies themselves at 0.5 would predict no
    class where none is held by half the items."""
    rows = np.asarray(known_labels, dtype=np.float64)
    frequencies = label_frequencies(rows)
    count = max(1, int(np.floor(rows.sum(axis=1).mean() + 0.5)))
    order = np.lexsort((np.arange(len(frequencies)), -frequencies))
    chosen = np.zeros(len(frequencies), dtype=bool)
    chosen[order[:count]] = True
    return chosen


def co_interaction_neighbours(
    user_index: np.ndarray,
    item_index: np.ndarray,
    num_items: int,
    query_items: Sequence[int] | np.ndarray,
    known: np.ndarray,
    num_neighbours: int = NUM_NEIGHBOURS,
) -> tuple[np.ndarray, np.ndarray]:
    """The known items most co-interacted with each query item.

    Args:
        user_index: `[num_interactions]` user of each training interaction.
        item_index: `[num_interactions]` its item (repeated pairs count once).
        num_items: items are `0 .. num_items - 1`.
        query_items: `[num_queries]` the items to find neighbours for.
        known: `[num_items]` bool, the items whose labels may be read; a query item is never
            its own neighbour.
        num_neighbours: neighbours kept per query item.

    Returns:
        `(neighbours, weights)`, both `[num_queries, num_neighbours]`: the neighbours' item
        indices (-1 where fewer exist), most shared users first (ties: lower index first),
        and the number of users each shares with the query item (0 for padding).
    """
    users = np.asarray(user_index, dtype=np.int64)
    items = np.asarray(item_index, dtype=np.int64)
    known = np.asarray(known, dtype=bool)
    queries = np.asarray(query_items, dtype=np.int64).reshape(-1)
    if users.shape != items.shape:
        raise ValueError(f"{users.size} users for {items.size} items")
    if known.shape != (num_items,):
        raise ValueError(f"known has shape {known.shape}; expected ({num_items},)")
    pairs = np.unique(users * num_items + items)
    users, items = pairs // num_items, pairs % num_items
    # Each user's items (rows sorted by user), and each item's users.
    user_starts = np.searchsorted(users, np.arange(users.max(initial=-1) + 2))
    by_item = np.argsort(items, kind="stable")
    item_starts = np.searchsorted(items[by_item], np.arange(num_items + 1))
    neighbours = np.full((len(queries), num_neighbours), -1, dtype=np.int64)
    weights = np.zeros((len(queries), num_neighbours), dtype=np.float64)
    for row, query in enumerate(queries):
        its_users = users[by_item[item_starts[query] : item_starts[query + 1]]]
        if not len(its_users):
            continue
        spans = [items[user_starts[user] : user_starts[user + 1]] for user in its_users]
        counts = np.bincount(np.concatenate(spans), minlength=num_items)
        counts[query] = 0
        counts[~known] = 0
        found = np.flatnonzero(counts)
        best = found[np.lexsort((found, -counts[found]))][:num_neighbours]
        neighbours[row, : len(best)] = best
        weights[row, : len(best)] = counts[best]
    return neighbours, weights


def embedding_neighbours(
    embeddings: np.ndarray,
    query_items: Sequence[int] | np.ndarray,
    known: np.ndarray,
    num_neighbours: int = NUM_NEIGHBOURS,
    temperature: float = EMBEDDING_TEMPERATURE,
) -> tuple[np.ndarray, np.ndarray]:
    """The known items closest to each query item in an item space (cosine similarity).

    Args:
        embeddings: `[num_items, dim]` every item's embedding (e.g. the candidate tower's
            output); a zero row is similar to nothing.
        query_items: `[num_queries]` the items to find neighbours for.
        known: `[num_items]` bool, the items whose labels may be read; a query item is never
            its own neighbour.
        num_neighbours: neighbours kept per query item.
        temperature: the weights' temperature (> 0).

    Returns:
        `(neighbours, weights)`, both `[num_queries, num_neighbours]`, for `propagate_labels`:
        the neighbours' item indices, most similar first (-1 where fewer known items exist),
        and `exp((cosine - the closest neighbour's cosine) / temperature)` (0 for padding).
    """
    vectors = np.asarray(embeddings, dtype=np.float32)
    known = np.asarray(known, dtype=bool)
    queries = np.asarray(query_items, dtype=np.int64).reshape(-1)
    if vectors.ndim != 2 or known.shape != (len(vectors),):
        raise ValueError(
            f"expected [num_items, dim] embeddings and [num_items] known, got "
            f"{vectors.shape} and {known.shape}"
        )
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    candidates = np.flatnonzero(known)
    width = min(num_neighbours, len(candidates))
    neighbours = np.full((len(queries), num_neighbours), -1, dtype=np.int64)
    weights = np.zeros((len(queries), num_neighbours), dtype=np.float64)
    if not width:
        return neighbours, weights
    for start in range(0, len(queries), _QUERY_BLOCK):
        block = queries[start : start + _QUERY_BLOCK]
        similarity = unit[block] @ unit[candidates].T  # [block, num_known]
        similarity[candidates[np.newaxis, :] == block[:, np.newaxis]] = -np.inf
        top = np.argpartition(-similarity, width - 1, axis=1)[:, :width]
        # Most similar first; ties: lower item index first.
        order = np.lexsort((candidates[top], -np.take_along_axis(similarity, top, 1)), axis=1)
        top = np.take_along_axis(top, order, 1)
        best = np.take_along_axis(similarity, top, 1).astype(np.float64)
        valid = np.isfinite(best)
        rows = slice(start, start + len(block))
        neighbours[rows, :width] = np.where(valid, candidates[top], -1)
        shifted = np.where(valid, best - best[:, :1], 0.0)
        weights[rows, :width] = np.where(valid, np.exp(shifted / temperature), 0.0)
    return neighbours, weights


def propagate_labels(
    neighbours: np.ndarray,
    weights: np.ndarray,
    item_labels: np.ndarray,
    fallback: np.ndarray,
) -> np.ndarray:
    """`[num_queries, num_columns]` each query item's neighbours' label rows, averaged with
    `weights`; `fallback` `[num_columns]` (e.g. `label_frequencies`) where it has none.

    Args:
        neighbours: `[num_queries, k]` item indices, -1 for none.
        weights: `[num_queries, k]` non-negative weights.
        item_labels: `[num_items, num_columns]` every item's labels (only the neighbours'
            rows are read).
        fallback: the row given to a query item without neighbours.
    """
    neighbours = np.asarray(neighbours, dtype=np.int64)
    weights = np.where(neighbours >= 0, np.asarray(weights, dtype=np.float64), 0.0)
    labels = np.asarray(item_labels, dtype=np.float64)
    rows = labels[np.maximum(neighbours, 0)]  # [num_queries, k, num_columns]
    total = weights.sum(axis=1, keepdims=True)
    weighted = np.einsum("qk,qkc->qc", weights, rows)
    averaged = np.divide(weighted, total, out=np.zeros_like(weighted), where=total > 0)
    return np.where(total > 0, averaged, np.asarray(fallback, dtype=np.float64)[np.newaxis])


def propagated_labels(
    neighbours: np.ndarray,
    weights: np.ndarray,
    item_labels: np.ndarray,
    known_labels: np.ndarray,
    *,
    as_sets: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The completion of one attribute: each query item's neighbours' label rows averaged
    with `weights` (`propagate_labels`), the known items' label frequencies where it has
    none; with `as_sets` (a multi-label attribute) also each item's predicted classes, those
    holding more than half the weight and the best-scored one always
    (`most_frequent_classes` for an item without neighbours).

    Args:
        neighbours, weights: `[num_queries, k]` (`embedding_neighbours`,
            `co_interaction_neighbours`).
        item_labels: `[num_items, num_columns]` every item's label row.
        known_labels: `[num_known, num_columns]` the label rows of the known items.
        as_sets: also return the predicted sets.

    Returns:
        `(scores [num_queries, num_columns], sets [num_queries, num_columns] bool or None)`.
    """
    known_labels = np.asarray(known_labels, dtype=np.float64)
    scores = propagate_labels(neighbours, weights, item_labels, label_frequencies(known_labels))
    if not as_sets:
        return scores, None
    has_neighbours = np.where(np.asarray(neighbours) >= 0, weights, 0.0).sum(axis=1) > 0
    best = scores == scores.max(axis=1, keepdims=True)
    found = (scores > 0.5) | best
    fallback = most_frequent_classes(known_labels)
    return scores, np.where(has_neighbours[:, np.newaxis], found, fallback[np.newaxis])


def class_means(
    values: np.ndarray, classes: np.ndarray, known: np.ndarray, fallback: float | None = None
) -> np.ndarray:
    """`[num_items]` each item's prediction of a number (a price) as the mean value of the
    known items of its class (a category); `fallback` (default: the known items' mean)
    for a class no known item has.

    Args:
        values: `[num_items]` numbers; only the known items' are read.
        classes: `[num_items]` class labels (any hashable values).
        known: `[num_items]` bool, the items whose values may be read.
        fallback: see above.

    Raises:
        ValueError: mismatched shapes, or no known item.
    """
    numbers = np.asarray(values, dtype=np.float64).reshape(-1)
    labels = np.asarray(classes).reshape(-1)
    known = np.asarray(known, dtype=bool).reshape(-1)
    if not numbers.shape == labels.shape == known.shape:
        raise ValueError(f"{numbers.size} values, {labels.size} classes, {known.size} known")
    if not known.any():
        raise ValueError("no known item to average")
    classes_known, codes = np.unique(labels[known], return_inverse=True)
    means = np.bincount(codes, weights=numbers[known]) / np.bincount(codes)
    position = np.searchsorted(classes_known, labels).clip(0, len(classes_known) - 1)
    found = classes_known[position] == labels
    default = float(numbers[known].mean()) if fallback is None else float(fallback)
    return np.where(found, means[position], default)


def multilabel_completion_metrics(
    labels: np.ndarray,
    scores: np.ndarray,
    predicted: np.ndarray | None = None,
    threshold: float = 0.5,
) -> dict[str, float]:
    """`micro_f1` and `macro_f1` (`tfrs_mtl.evaluation.multilabel_f1`) of the predicted
    classes and the macro `auc` of the scores, over the classes present and absent among
    the items (no `auc` when none is both).

    Args:
        labels: `[num_items, num_classes]` 0/1.
        scores: `[num_items, num_classes]` scores (probabilities, logits, shares).
        predicted: `[num_items, num_classes]` bool, the predicted classes; None: the scores
            above `threshold`.
        threshold: see `predicted`.
    """
    labels = np.asarray(labels, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    decided = scores > threshold if predicted is None else np.asarray(predicted, dtype=bool)
    found = multilabel_f1(labels, decided)
    with contextlib.suppress(ValueError):  # no class has both positive and negative items
        found["auc"] = multilabel_auc(labels, scores)
    return found


def multiclass_completion_metrics(
    labels: np.ndarray, scores: np.ndarray, top_k: int = TOP_K
) -> dict[str, float]:
    """`accuracy` (the best-scored class is the item's) and `top<k>_accuracy` (it is among
    the `k` best-scored; ties: lower class first).

    Args:
        labels: `[num_items]` class index of each item, -1 for a class the predictor does
            not know (never counted correct).
        scores: `[num_items, num_classes]`.
    """
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or len(scores) != len(labels) or not len(labels):
        raise ValueError(
            f"expected [num_items] labels and [num_items, num_classes] scores, got "
            f"{labels.shape} and {scores.shape}"
        )
    order = np.argsort(-scores, axis=1, kind="stable")[:, :top_k]
    hits = order == labels[:, np.newaxis]
    return {"accuracy": float(hits[:, 0].mean()), f"top{top_k}_accuracy": float(hits.any(1).mean())}


def regression_completion_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """`rmse` and `mape`, the mean of `|label - prediction| / |label|` over the items whose
    label is not 0 (a fraction: 0.25 is 25%; absent when every label is 0)."""
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    p = np.asarray(predictions, dtype=np.float64).reshape(-1)
    if y.shape != p.shape or not len(y):
        raise ValueError(f"{y.size} labels for {p.size} predictions")
    found = {"rmse": float(np.sqrt(np.mean((y - p) ** 2)))}
    nonzero = y != 0
    if nonzero.any():
        found["mape"] = float(np.mean(np.abs(y - p)[nonzero] / np.abs(y[nonzero])))
    return found
