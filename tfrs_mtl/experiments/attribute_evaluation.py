"""Attribute completion scored on the held-out items of an `AttributeHoldout`.

* `heldout_model_metrics`: the model's completion of every held-out attribute, one
  prediction per held-out item: the labels of the 50 known items closest to it in the
  model's item space (the candidate tower's output on the catalogue rows, `item_catalogue`,
  the held-out attributes read as unknown; cosine similarity, weighted
  `exp((cosine - best) / 0.05)`; `embedding_neighbours`). The item attribute heads' own
  predictions on the same items are kept as `head_<metric>`. Both read the candidate tower
  alone (no user): no test row and no user enters them.
* `attribute_baseline_metrics`: `label_frequency` (the known items' label distribution: the
  most frequent classes, the mean price) and `item_knn` (the labels of the 50 known items
  sharing the most users with the held-out item in the training interactions, weighted by
  that count; as a set of genres: those held by more than half the weight, and the
  best-scored one always), both from `tfrs_mtl.evaluation.attribute_completion`; and,
  where the items have a `category`, for every numeric attribute `category_mean` (the mean
  of the known items of the category item-kNN gives the held-out item) and `category_given`
  (the mean of the known items of the held-out item's own category, a reference that reads
  the category the holdout hides from the model).
* `single_task_config`: the `attribute_single_task` baseline's experiment, retrieval and the
  item attribute tasks alone.

Metrics per attribute: multi-label (genres) `micro_f1`, `macro_f1`, `auc`; multi-class
(category, brand) `accuracy`, `top5_accuracy`; regression (price) `rmse`, `mape`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tfrs_mtl.evaluation.attribute_completion import (
    EMBEDDING_TEMPERATURE,
    NUM_NEIGHBOURS,
    class_means,
    co_interaction_neighbours,
    embedding_neighbours,
    label_frequencies,
    most_frequent_classes,
    multiclass_completion_metrics,
    multilabel_completion_metrics,
    propagated_labels,
    regression_completion_metrics,
)
from tfrs_mtl.experiments.attribute_holdout import AttributeHoldout, ItemAttribute
from tfrs_mtl.experiments.experiment_config import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import ExperimentData
from tfrs_mtl.models import MultiTaskConfig, MultiTaskModel
from tfrs_mtl.models.catalogue import key_strings
from tfrs_mtl.tasks import TaskConfig

_BATCH_SIZE = 4096
#: The metric group of the holdout's own numbers (`attribute_holdout/num_items`).
HOLDOUT_GROUP = "attribute_holdout"
#: The class column the `category_given` reference averages numeric attributes within.
REFERENCE_CLASS = "category"


def item_attribute_tasks(config: MultiTaskConfig) -> list[TaskConfig]:
    """The model's item attribute tasks (candidate-side `attribute` tasks)."""
    return [
        task
        for task in config.tasks
        if task.kind == "attribute" and task.source_side == "candidate"
    ]


def holdout_summary(holdout: AttributeHoldout) -> dict[str, float]:
    """`num_items` held out and `num_known_items` of the training catalogue."""
    return {
        "num_items": float(holdout.heldout.sum()),
        "num_known_items": float((~holdout.heldout).sum()),
    }


def item_head_outputs(
    model: MultiTaskModel,
    catalogue: dict[str, np.ndarray],
    items: np.ndarray,
    tasks: Sequence[TaskConfig] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each item attribute task's raw output on the catalogue rows `items` (logits
    `[num_items, num_classes]`, or `[num_items]` standardized numbers for regression), and
    the candidate tower's output on them `[num_items, dim]`. `tasks`: the heads to run
    (None: every item attribute task; empty: the tower alone)."""
    import tensorflow as tf

    tasks = item_attribute_tasks(model.config) if tasks is None else tasks
    names = {model.candidate_id_feature, *model.candidate_feature_names}
    parts: dict[str, list[np.ndarray]] = {task.name: [] for task in tasks}
    towers: list[np.ndarray] = []
    for start in range(0, len(items), _BATCH_SIZE):
        chosen = items[start : start + _BATCH_SIZE]
        features = {}
        for name, values in catalogue.items():
            if name in names:
                rows = np.asarray(values)[chosen]
                features[name] = tf.constant(rows.astype(str) if rows.dtype.kind in "OU" else rows)
        candidate = model.candidate_tower(features, training=False)
        towers.append(np.asarray(candidate))
        for task in tasks:
            parts[task.name].append(np.asarray(model.side_head_logits(task, features, candidate)))
    outputs = {name: np.concatenate(values) for name, values in parts.items() if values}
    return outputs, np.concatenate(towers)


def heldout_model_metrics(
    model: MultiTaskModel,
    catalogue: dict[str, np.ndarray],
    holdout: AttributeHoldout,
    *,
    num_neighbours: int = NUM_NEIGHBOURS,
    temperature: float = EMBEDDING_TEMPERATURE,
) -> dict[str, dict[str, float]]:
    """`{attribute: metrics}` of the model's completion of every held-out attribute (the
    known labels of the held-out item's closest known items in the model's item space),
    with each item attribute head's own metrics on the same items as `head_<metric>`.

    Args:
        model: the trained model.
        catalogue: `item_catalogue(data, model)`: candidate features in item-index order.
        holdout: the split's held-out items.
        num_neighbours: known items read per held-out item (`embedding_neighbours`).
        temperature: their weights' temperature.
    """
    heldout_items = holdout.heldout_items
    if not len(heldout_items):
        return {}
    num_items = len(next(iter(catalogue.values())))
    outputs, embeddings = item_head_outputs(model, catalogue, np.arange(num_items))
    known = np.zeros(num_items, dtype=bool)
    known[holdout.known_items] = True
    neighbours, weights = embedding_neighbours(
        embeddings, heldout_items, known, num_neighbours=num_neighbours, temperature=temperature
    )
    metrics: dict[str, dict[str, float]] = {}
    for attribute in holdout.attributes:
        found_labels = _attribute_labels(attribute, holdout, num_items)
        if found_labels is not None:
            metrics[attribute.name] = _propagated_metrics(found_labels, neighbours, weights)
    statistics = model.task_statistics
    columns = {attribute.column: attribute for attribute in holdout.attributes}
    for task in item_attribute_tasks(model.config):
        if task.name not in outputs or task.label_key not in columns:
            continue
        values = holdout.item_values[task.label_key][holdout.heldout]
        predicted = outputs[task.name][heldout_items].astype(np.float64)
        if task.target == "multi_label":
            labels = multi_hot(values, predicted.shape[1])
            found = multilabel_completion_metrics(labels, predicted, predicted=predicted > 0)
        elif task.target == "multi_class":
            vocabulary = statistics.label_vocabularies.get(task.name)
            if vocabulary is None:  # integer classes
                labels = np.asarray(values, dtype=np.int64)
            else:
                labels = pd.Index(vocabulary).get_indexer(pd.Index(key_strings(values)))
            found = multiclass_completion_metrics(labels, predicted)
        else:
            mean = statistics.label_means.get(task.name, 0.0)
            std = statistics.label_stds.get(task.name, 1.0)
            found = regression_completion_metrics(values, predicted * std + mean)
        group = metrics.setdefault(columns[task.label_key].name, {})
        group.update((f"head_{key}", value) for key, value in found.items())
    return metrics


def multi_hot(class_ids: np.ndarray, num_classes: int) -> np.ndarray:
    """Class ids `[num_items, max_len]` padded -1 (or `[num_items]`) -> 0/1
    `[num_items, num_classes]` (ids outside `0 .. num_classes - 1` dropped)."""
    ids = np.asarray(class_ids, dtype=np.int64).reshape(len(class_ids), -1)
    matrix = np.zeros((len(ids), num_classes), dtype=np.float64)
    rows, positions = np.nonzero((ids >= 0) & (ids < num_classes))
    matrix[rows, ids[rows, positions]] = 1.0
    return matrix


def attribute_baseline_metrics(
    data: ExperimentData, train_positions: np.ndarray
) -> dict[str, dict[str, dict[str, float]]]:
    """`{"label_frequency": {attribute: metrics}, "item_knn": {...}}` on the held-out items
    of `data.attribute_holdout`, from the known items' labels and the training
    interactions (retrieval positives); `item_knn` also reports, as
    `attribute_holdout/share_with_neighbours`, the share of held-out items that have a
    co-interacted known item (the others get the label frequencies). Where the holdout
    hides a `category`, each numeric attribute is also predicted as the mean of the known
    items of a category (`class_means`): the one item-kNN gives the held-out item
    (`category_mean`), and its true one (`category_given`, a reference)."""
    holdout = data.attribute_holdout
    if holdout is None or not holdout.heldout.any():
        return {}
    known = np.zeros(data.num_items, dtype=bool)
    known[holdout.known_items] = True
    users, items = data.pairs(train_positions)
    neighbours, weights = co_interaction_neighbours(
        users, items, data.num_items, holdout.heldout_items, known
    )
    with_neighbours = weights.sum(axis=1) > 0
    frequency: dict[str, dict[str, float]] = {}
    knn: dict[str, dict[str, float]] = {
        HOLDOUT_GROUP: {"share_with_neighbours": float(with_neighbours.mean())}
    }
    for attribute in holdout.attributes:
        found_labels = _attribute_labels(attribute, holdout, data.num_items)
        if found_labels is not None:
            frequency[attribute.name] = _frequency_metrics(found_labels)
            knn[attribute.name] = _propagated_metrics(found_labels, neighbours, weights)
    found = {"label_frequency": frequency, "item_knn": knn}
    predicted = _category_mean(holdout, neighbours, weights, data.num_items)
    if predicted:
        found["category_mean"] = predicted
    given = _category_given(holdout)
    if given:
        found["category_given"] = given
    return found


def _category_mean(
    holdout: AttributeHoldout, neighbours: np.ndarray, weights: np.ndarray, num_items: int
) -> dict[str, dict[str, float]]:
    """`{numeric attribute: metrics}` of the `category_mean` baseline ({} without a
    `category` among the held-out attributes): each held-out item's number is the mean of
    the known items of the category item-kNN gives it (the class with the most weight among
    its co-interacted known items, `propagated_labels`; the most frequent known category
    for an item without any)."""
    category = next((a for a in holdout.attributes if a.column == REFERENCE_CLASS), None)
    labels = None if category is None else _attribute_labels(category, holdout, num_items)
    if (
        labels is None
        or not labels.classes.size  # a category held as a set of classes
        or not any(a.target == "regression" for a in holdout.attributes)
    ):
        return {}
    scores, _ = propagated_labels(neighbours, weights, labels.item_labels, labels.known)
    categories = np.asarray(holdout.item_values[REFERENCE_CLASS]).astype(str)
    categories[holdout.heldout] = labels.classes[scores.argmax(axis=1)]
    return _class_mean_metrics(holdout, categories)


def _category_given(holdout: AttributeHoldout) -> dict[str, dict[str, float]]:
    """`{numeric attribute: metrics}` of the `category_given` reference ({} without a
    `category` among the held-out attributes)."""
    if REFERENCE_CLASS not in {attribute.column for attribute in holdout.attributes}:
        return {}
    return _class_mean_metrics(
        holdout, np.asarray(holdout.item_values[REFERENCE_CLASS]).astype(str)
    )


def _class_mean_metrics(
    holdout: AttributeHoldout, categories: np.ndarray
) -> dict[str, dict[str, float]]:
    """`{numeric attribute: metrics}` of each held-out item's number predicted as the mean
    of the known items of its entry in `categories` `[num_catalogue_items]`."""
    known = ~holdout.heldout
    found: dict[str, dict[str, float]] = {}
    for attribute in holdout.attributes:
        if attribute.target != "regression":
            continue
        values = np.asarray(holdout.item_values[attribute.column], dtype=np.float64)
        predicted = class_means(values, categories, known)
        found[attribute.name] = regression_completion_metrics(
            values[holdout.heldout], predicted[holdout.heldout]
        )
    return found


@dataclasses.dataclass(frozen=True)
class _AttributeLabels:
    """One attribute's labels as rows of numbers: `[num_items, num_columns]` over every item
    (multi-hot classes, or the number; zero rows for the items outside the catalogue), the
    known catalogue items' rows, the held-out items' true rows, and a multi-class
    attribute's class of each column (empty for the others)."""

    attribute: ItemAttribute
    item_labels: np.ndarray
    known: np.ndarray
    truth: np.ndarray
    classes: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype=str))

    @property
    def frequencies(self) -> np.ndarray:
        """`[num_columns]` the known items' label frequencies (the mean number)."""
        return label_frequencies(self.known)


def _attribute_labels(
    attribute: ItemAttribute, holdout: AttributeHoldout, num_items: int
) -> _AttributeLabels | None:
    """The labels of `attribute`; None when no known item has one to learn from (a class
    only held-out items have is no column: its items count as misses)."""
    values = holdout.item_values[attribute.column]
    known_rows = ~holdout.heldout
    classes = np.empty(0, dtype=str)
    if attribute.target == "multi_label":
        width = attribute.num_classes or int(np.max(values, initial=-1)) + 1
        labels = multi_hot(values, width)
    elif attribute.target == "multi_class":
        names = np.asarray(values).astype(str)
        classes = np.unique(names[known_rows])
        codes = pd.Index(classes).get_indexer(pd.Index(names))
        labels = multi_hot(codes, len(classes))
    else:
        labels = np.asarray(values, dtype=np.float64).reshape(-1, 1)
    if not labels.shape[1] or not known_rows.any():
        return None
    item_labels = np.zeros((num_items, labels.shape[1]))
    item_labels[holdout.catalogue_items] = labels
    return _AttributeLabels(
        attribute, item_labels, labels[known_rows], labels[holdout.heldout], classes
    )


def _completion_metrics(
    labels: _AttributeLabels, scores: np.ndarray, predicted_set: np.ndarray | None = None
) -> dict[str, float]:
    """The metrics of `scores` `[num_heldout, num_columns]` against the held-out items' true
    labels; a multi-label attribute's predicted sets are `predicted_set` (bool, same shape)."""
    truth = labels.truth
    if labels.attribute.target == "multi_label":
        return multilabel_completion_metrics(truth, scores, predicted=predicted_set)
    if labels.attribute.target == "multi_class":
        return multiclass_completion_metrics(
            np.where(truth.any(axis=1), truth.argmax(axis=1), -1), scores
        )
    return regression_completion_metrics(truth[:, 0], scores[:, 0])


def _frequency_metrics(labels: _AttributeLabels) -> dict[str, float]:
    """`label_frequency`'s metrics: every held-out item given the known items' label
    frequencies (as a set of genres: `most_frequent_classes`)."""
    rows = len(labels.truth)
    scores = np.repeat(labels.frequencies[np.newaxis], rows, axis=0)
    top = np.repeat(most_frequent_classes(labels.known)[np.newaxis], rows, axis=0)
    return _completion_metrics(labels, scores, top)


def _propagated_metrics(
    labels: _AttributeLabels, neighbours: np.ndarray, weights: np.ndarray
) -> dict[str, float]:
    """The metrics of the labels propagated to each held-out item from its `neighbours`
    (`propagate_labels`; the label frequencies where it has none; as a set of genres: those
    holding more than half the weight, and the best-scored one always)."""
    scores, predicted_set = propagated_labels(
        neighbours,
        weights,
        labels.item_labels,
        labels.known,
        as_sets=labels.attribute.target == "multi_label",
    )
    return _completion_metrics(labels, scores, predicted_set)


def single_task_config(
    config: ExperimentConfig, model_config: MultiTaskConfig
) -> ExperimentConfig | None:
    """The `attribute_single_task` baseline's experiment: `config` training retrieval (which
    every experiment needs) and the item attribute tasks of `model_config` alone, with no
    baselines and no served blend; None when `model_config` has no such task."""
    names = [task.name for task in item_attribute_tasks(model_config)]
    if not names:
        return None
    return config.replace(
        tasks=("retrieval", *names), baselines=(), blend=None, validate_each_epoch=False
    )
