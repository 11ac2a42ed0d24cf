"""`AttributeHoldout`: the items whose attributes a run hides in training
(`ExperimentConfig.attribute_holdout`), and how they are hidden.

The item attributes are the labels of the preset's item attribute tasks (MovieLens
`movie_genres`; e-commerce `category` and `price`) and the item columns in
`UNPREDICTED_ITEM_ATTRIBUTES` (`brand`: no task predicts it, but it names its category).
For every split, `fit_attribute_holdout` picks a share of the training catalogue's items,
seeded and stratified by label (the item's most frequent genre, its category). Their rows
stay in training; `AttributeHoldout.mask` rewrites them wherever the model reads them:

* every attribute column of a held-out item's rows reads as unknown (`HIDDEN_VALUE` for
  text, -1 for class ids, the known items' median for numbers), so neither a tower nor the
  ranking stack (e.g. its ranking-only price) reads it, in training, evaluation or serving;
* `ATTRIBUTE_WEIGHT_KEY` is 0 on those rows and 1 elsewhere: `with_attribute_weights` makes
  it the sample weight of every item attribute task, so neither the batch rows nor the
  catalogue term (`TaskConfig.loss_over`) of a held-out item adds to a loss, and the label
  statistics ignore them (`TaskStatistics.fit`).

The true attributes of the held-out items stay in `AttributeHoldout.item_values`, for
`tfrs_mtl.experiments.attribute_evaluation` to score predictions against.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from tfrs_mtl.config import ConfigError
from tfrs_mtl.data import to_feature_arrays

if TYPE_CHECKING:
    from tfrs_mtl.experiments.experiment_config import ExperimentConfig
    from tfrs_mtl.models import MultiTaskConfig

#: What a hidden text attribute reads as.
HIDDEN_VALUE = "(hidden)"
#: The 0/1 row weight of the item attribute tasks: 0 on the rows of held-out items.
ATTRIBUTE_WEIGHT_KEY = "attribute_known"
#: Item attribute columns no task predicts that are hidden with the others and scored by
#: the baselines (a brand belongs to one category: left visible, it would name it).
UNPREDICTED_ITEM_ATTRIBUTES: tuple[str, ...] = ("brand",)

AttributeTarget = Literal["multi_label", "multi_class", "regression"]


@dataclasses.dataclass(frozen=True)
class ItemAttribute:
    """An item attribute a holdout hides and scores.

    Attributes:
        name: the metric prefix: the task predicting it (`genres`), else the column.
        column: the frame column holding it (`movie_genres`).
        target: `multi_label` (class ids, padded -1), `multi_class` (one class) or
            `regression` (a number).
        num_classes: `multi_label`: the classes are `0 .. num_classes - 1`.
    """

    name: str
    column: str
    target: AttributeTarget
    num_classes: int = 0


def item_attributes(
    config: ExperimentConfig, columns: Collection[str]
) -> tuple[ItemAttribute, ...]:
    """The item attributes of `config`'s dataset present in `columns`: the labels of its
    preset's candidate-side attribute tasks (whichever `config.tasks` trains), then
    `UNPREDICTED_ITEM_ATTRIBUTES`."""
    preset = config.replace(tasks=(), blend=None).model_config(columns)
    found = [
        ItemAttribute(task.name, task.label_key, task.target, task.num_classes)
        for task in preset.tasks
        if task.kind == "attribute" and task.source_side == "candidate"
    ]
    taken = {attribute.column for attribute in found}
    found += [
        ItemAttribute(column, column, "multi_class")
        for column in UNPREDICTED_ITEM_ATTRIBUTES
        if column in columns and column not in taken
    ]
    return tuple(found)


@dataclasses.dataclass(frozen=True, eq=False)
class AttributeHoldout:
    """The held-out items of one split, and every catalogue item's true attributes.

    Attributes:
        share: the share of the catalogue held out.
        attributes: the hidden attributes.
        catalogue_items: `[num_catalogue]` the training items (item indices, sorted).
        heldout: `[num_catalogue]` bool, which of them are held out.
        item_values: column -> `[num_catalogue, ...]` each catalogue item's true value (its
            first training row; class ids padded -1 for multi-label attributes).
        fill_values: column -> what a held-out item's rows read instead.
        hidden: `[num_items]` bool over every item of the data: held out.
    """

    share: float
    attributes: tuple[ItemAttribute, ...]
    catalogue_items: np.ndarray
    heldout: np.ndarray
    item_values: dict[str, np.ndarray]
    fill_values: dict[str, object]
    hidden: np.ndarray

    @property
    def heldout_items(self) -> np.ndarray:
        """`[num_heldout]` item indices of the held-out items, sorted."""
        return self.catalogue_items[self.heldout]

    @property
    def known_items(self) -> np.ndarray:
        """`[num_known]` item indices of the catalogue items whose labels train."""
        return self.catalogue_items[~self.heldout]

    def mask(
        self, arrays: Mapping[str, np.ndarray], row_items: np.ndarray
    ) -> dict[str, np.ndarray]:
        """`arrays` (rows of items `row_items` `[num_rows]`) with `ATTRIBUTE_WEIGHT_KEY`
        added and every attribute column of the held-out items' rows replaced by its fill
        value (`arrays` is not mutated)."""
        hidden_rows = self.hidden[np.asarray(row_items, dtype=np.int64)]
        masked = dict(arrays)
        masked[ATTRIBUTE_WEIGHT_KEY] = (~hidden_rows).astype(np.float32)
        if hidden_rows.any():
            for column, fill in self.fill_values.items():
                if column in masked:
                    values = np.array(masked[column], copy=True)
                    values[hidden_rows] = fill
                    masked[column] = values
        return masked


def fit_attribute_holdout(
    frame: pd.DataFrame,
    item_index: np.ndarray,
    num_items: int,
    train_positions: np.ndarray,
    attributes: tuple[ItemAttribute, ...],
    share: float,
    seed: int,
) -> AttributeHoldout:
    """Picks the held-out items among the items of the training rows.

    Args:
        frame: every row of the data.
        item_index: `[num_rows]` item index of each row.
        num_items: items are `0 .. num_items - 1`.
        train_positions: the split's training rows.
        attributes: what is hidden (`item_attributes`).
        share: the share of the training items held out, in (0, 1).
        seed: seeds the choice.

    Raises:
        ConfigError: no attribute, or no item would keep its labels.
    """
    if not attributes:
        raise ConfigError(
            f"attribute_holdout={share}: the data has no item attribute columns to hide "
            f"(columns: {sorted(map(str, frame.columns))})"
        )
    train_positions = np.asarray(train_positions, dtype=np.int64)
    catalogue_items, first = np.unique(item_index[train_positions], return_index=True)
    rows = frame.iloc[train_positions[first]][[attribute.column for attribute in attributes]]
    item_values = to_feature_arrays(rows, pad_value=-1)
    strata = label_strata(attributes, item_values)
    heldout = np.zeros(len(catalogue_items), dtype=bool)
    heldout[stratified_choice(strata, share, seed)] = True
    if heldout.all():
        raise ConfigError(
            f"attribute_holdout={share} holds out all {len(heldout)} training items; no item "
            "keeps its labels to learn from"
        )
    hidden = np.zeros(num_items, dtype=bool)
    hidden[catalogue_items[heldout]] = True
    fill_values = {
        column: _fill_value(values, values[~heldout]) for column, values in item_values.items()
    }
    return AttributeHoldout(
        share, attributes, catalogue_items, heldout, item_values, fill_values, hidden
    )


def _fill_value(values: np.ndarray, known: np.ndarray) -> object:
    """Unknown: `HIDDEN_VALUE` for text, -1 for class ids, the known items' median number."""
    if values.dtype.kind in "OUS":
        return HIDDEN_VALUE
    if values.dtype.kind in "iub":
        return -1
    return values.dtype.type(np.median(known))


def label_strata(
    attributes: tuple[ItemAttribute, ...], item_values: Mapping[str, np.ndarray]
) -> np.ndarray:
    """`[num_items]` the stratum of each item: its class of the first class-valued attribute
    (of a multi-label one, its class held by the most items; ties: the lower class), -1
    without one; all 0 when every attribute is a number."""
    for attribute in attributes:
        values = item_values[attribute.column]
        if attribute.target == "multi_class":
            return pd.factorize(pd.Series(values).astype(str), sort=True)[0].astype(np.int64)
        if attribute.target == "multi_label":
            classes = np.asarray(values, dtype=np.int64).reshape(len(values), -1)
            if not classes.shape[1]:
                return np.full(len(classes), -1, dtype=np.int64)
            counts = np.bincount(classes[classes >= 0], minlength=1)
            span = len(counts) + 1
            present = np.maximum(classes, 0)
            # The most items first, then the lower class; padding never wins.
            key = np.where(classes >= 0, counts[present] * span + (span - 1 - present), -1)
            best = classes[np.arange(len(classes)), key.argmax(axis=1)]
            return np.where(key.max(axis=1) >= 0, best, -1)
    return np.zeros(len(next(iter(item_values.values()))), dtype=np.int64)


def stratified_choice(strata: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Positions of `round(share * n)` items of every stratum of `n` items (halves round
    up), drawn uniformly without replacement with `seed`; sorted."""
    strata = np.asarray(strata)
    rng = np.random.default_rng(seed)
    chosen = []
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        count = int(np.floor(share * len(members) + 0.5))
        chosen.append(rng.permutation(members)[:count])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def with_attribute_weights(config: MultiTaskConfig) -> MultiTaskConfig:
    """`config` whose item attribute tasks are weighted by `ATTRIBUTE_WEIGHT_KEY`.

    Raises:
        ConfigError: such a task already has a sample weight.
    """
    tasks = []
    for task in config.tasks:
        if task.kind == "attribute" and task.source_side == "candidate":
            if task.sample_weight_key not in (None, ATTRIBUTE_WEIGHT_KEY):
                raise ConfigError(
                    f"task {task.name!r} is weighted by {task.sample_weight_key!r}; an "
                    "attribute holdout weighs item attribute tasks by "
                    f"{ATTRIBUTE_WEIGHT_KEY!r} and cannot combine the two"
                )
            task = task.replace(sample_weight_key=ATTRIBUTE_WEIGHT_KEY)
        tasks.append(task)
    return config.replace(tasks=tuple(tasks))
