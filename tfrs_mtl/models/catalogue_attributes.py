"""`CatalogueAttributes`: the catalogue's items as one batch, for item-attribute tasks with
`TaskConfig.loss_over="batch_and_catalogue"`.

A batch of interactions holds an item as often as it is interacted with, so a batch loss
learns a popular item's attributes far more than a rarely seen one's. The catalogue term
scores every catalogue item once per step, its label read from the catalogue (its first
training row) and weighted by its sample weight when the task has one (an item weighted 0
adds nothing), and trains the attribute head alone (`MultiTaskModel.side_head_logits` with
`head_only=True`), so the shared rows keep the interaction-weighted signal retrieval needs.

Each item also appears a second time as an unknown item: its id replaced by one outside
the vocabulary (its other features kept), with its own label. An item the model never saw
(a new movie in the test split) then gets what its other features say, or, when the id is
all the tower reads, the catalogue's label frequencies, instead of the output of an
embedding row no loss ever trained.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfrs_mtl.models.catalogue import Catalogue
from tfrs_mtl.tasks import TaskConfig


def unknown_ids(ids: np.ndarray) -> np.ndarray:
    """One id per row that no vocabulary fitted on real ids holds (distinct, so that they
    spread over the OOV buckets): `"\\0unknown item <row>"`, or for integer ids the most
    negative int64 values."""
    rows = np.arange(len(ids))
    if ids.dtype.kind in "iu":
        return (np.iinfo(np.int64).min + rows).astype(np.int64)
    return np.array([f"\0unknown item {row}" for row in rows], dtype=object)


class CatalogueAttributes(tf.Module):
    """The catalogue's candidate features and attribute labels as constant tensors: every
    item, then every item again under an unknown id (`unknown_ids`).

    Args:
        catalogue: The training items; may be None when no task trains over it.
        tasks: Every task of the model; those with `loss_over="batch_and_catalogue"` read the
            catalogue's labels.
        candidate_feature_names: The candidate features (and id) the towers and heads read.

    Raises:
        ValueError: such a task, but no catalogue, or a catalogue without its label.
    """

    def __init__(
        self,
        catalogue: Catalogue | None,
        tasks: Sequence[TaskConfig],
        candidate_feature_names: Sequence[str],
        name: str = "catalogue_attributes",
    ) -> None:
        super().__init__(name=name)
        self.task_names = tuple(task.name for task in tasks if task.trains_on_catalogue)
        self.features: dict[str, tf.Tensor] = {}
        if not self.task_names:
            return
        label_keys = catalogue_label_keys(tasks)
        if catalogue is None:
            raise ValueError(
                f"tasks {list(self.task_names)} have loss_over='batch_and_catalogue' but the "
                "model has no catalogue; build it with MultiTaskModel.from_data"
            )
        missing = sorted(set(label_keys) - set(catalogue.labels))
        if missing:
            raise ValueError(
                f"tasks {list(self.task_names)} have loss_over='batch_and_catalogue' but the "
                f"catalogue holds no labels {missing} (it has {sorted(catalogue.labels)}); "
                "build it with MultiTaskModel.fit_inputs, which keeps them"
            )
        wanted = set(candidate_feature_names) | {catalogue.id_feature}
        arrays = {
            name: np.concatenate(
                [values, unknown_ids(values) if name == catalogue.id_feature else values]
            )
            for name, values in catalogue.features.items()
            if name in wanted
        }
        arrays.update((key, np.concatenate([catalogue.labels[key]] * 2)) for key in label_keys)
        self.features = {name: tf.constant(values) for name, values in arrays.items()}

    def __bool__(self) -> bool:
        return bool(self.task_names)


def catalogue_label_keys(tasks: Sequence[TaskConfig]) -> list[str]:
    """The labels a catalogue must keep for the tasks trained over it, and their sample
    weights (`TaskConfig.sample_weight_key`), which weigh the catalogue term as they weigh
    the batch rows."""
    keys = (
        key
        for task in tasks
        if task.trains_on_catalogue
        for key in (task.label_key, task.sample_weight_key)
        if key
    )
    return list(dict.fromkeys(keys))
